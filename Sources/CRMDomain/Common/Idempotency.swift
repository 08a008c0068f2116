/// The response a request with an `Idempotency-Key` got, kept to be replayed to its retries.
public struct StoredResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// What claiming an `Idempotency-Key` found.
public enum IdempotencyClaim: Sendable, Equatable {
    /// First use: the caller runs the request and then completes (or releases) the key.
    case claimed
    /// Same key, same request, finished: replay this.
    case replay(StoredResponse)
    /// Same key, same request, still running (or its process died mid-way).
    case inProgress
    /// Same key, another request.
    case mismatch
}
