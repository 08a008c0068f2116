public import Foundation
public import Logging
public import PostgresClient

/// What a handler gets: the claimed job and a logger tagged with it.
public struct JobContext: Sendable {
    public let id: Int64
    public let kind: String
    public let queue: String
    public let args: PostgresJSON
    /// 1 for the first attempt.
    public let attempt: Int
    public let maxAttempts: Int
    public let dealerID: UUID?
    public let logger: Logger

    /// The arguments decoded as `T`.
    public func arguments<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try args.decode(T.self)
    }
}

/// How a handler can end other than by returning (done) or throwing (failed, retried).
public enum JobOutcome: Sendable, Equatable {
    case completed
    /// Run again after `delay`, without using up an attempt.
    case snooze(Duration)
    /// Stop for good (`cancelled`), with the reason kept on the job.
    case cancel(reason: String)
}

/// One job kind: its handler and how it runs.
public struct JobKind: Sendable {
    public let name: String
    /// A run longer than this is cancelled and counted as a failed attempt.
    public let timeout: Duration
    /// How long to wait before the next attempt after attempt `n` failed.
    public let retryDelay: @Sendable (_ failedAttempt: Int) -> Duration
    public let handler: @Sendable (JobContext) async throws -> JobOutcome

    public init(
        name: String, timeout: Duration = .seconds(60),
        retryDelay: @escaping @Sendable (_ failedAttempt: Int) -> Duration = Backoff.delay(afterAttempt:),
        handler: @escaping @Sendable (JobContext) async throws -> JobOutcome
    ) {
        self.name = name
        self.timeout = timeout
        self.retryDelay = retryDelay
        self.handler = handler
    }
}

/// The kinds a worker can run.
public struct JobRegistry: Sendable {
    public private(set) var kinds: [String: JobKind] = [:]

    public init(_ kinds: [JobKind] = []) {
        for kind in kinds { register(kind) }
    }

    public mutating func register(_ kind: JobKind) {
        kinds[kind.name] = kind
    }

    public mutating func register(
        _ name: String, timeout: Duration = .seconds(60),
        retryDelay: @escaping @Sendable (_ failedAttempt: Int) -> Duration = Backoff.delay(afterAttempt:),
        handler: @escaping @Sendable (JobContext) async throws -> JobOutcome
    ) {
        register(JobKind(name: name, timeout: timeout, retryDelay: retryDelay, handler: handler))
    }
}

/// Retry delays: attempt⁴ seconds with ±10% jitter (1 s, 16 s, 81 s, 4 min, 10 min, ...),
/// at most a day.
public enum Backoff {
    public static func delay(afterAttempt attempt: Int) -> Duration {
        let base = min(pow(Double(max(attempt, 1)), 4), 86_400)
        let jitter = base * Double.random(in: -0.1...0.1)
        return .milliseconds(Int64(max(1, base + jitter) * 1000))
    }
}
