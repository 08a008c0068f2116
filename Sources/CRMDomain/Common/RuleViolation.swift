/// A business rule refuses a change in the record's current state (HTTP 409): a won lead cannot
/// be edited, a complaint cannot be closed without its callback. A refused move of a workflow
/// names the moves allowed from where the record is.
public struct RuleViolation: Error, Sendable, Equatable {
    public var message: String
    /// For a refused state move: the states the record may move to from here.
    public var allowedTransitions: [String]?

    public init(_ message: String, allowedTransitions: [String]? = nil) {
        self.message = message
        self.allowedTransitions = allowedTransitions
    }
}
