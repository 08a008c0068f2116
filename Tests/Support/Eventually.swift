/// Polls `condition` until it holds or `limit` passes; whether it held. For what a test waits on
/// that happens in the background (a worker's round, a subscription, a queued caller): a fixed
/// sleep is either too long or, on a loaded machine, too short.
public func eventually(
    within limit: Duration = .seconds(20), every interval: Duration = .milliseconds(50), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}
