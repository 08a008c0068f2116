public import PostgresClient

extension PostgresListener {
    /// Waits until the listener's connection LISTENs on `channel` (subscribing is asynchronous, and
    /// a notification sent before then is lost); false if it does not within `limit`.
    public func waitUntilListening(on channel: String, within limit: Duration = .seconds(20)) async throws -> Bool {
        try await eventually(within: limit, every: .milliseconds(10)) { listeningChannels.contains(channel) }
    }
}
