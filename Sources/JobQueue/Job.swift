public import Foundation
public import PostgresClient

/// Where a job is in its life. `completed`, `cancelled` and `discarded` are final.
public enum JobState: String, Sendable, CaseIterable, Codable {
    /// May run now.
    case available
    /// Runs at `runAt`.
    case scheduled
    /// Claimed by a worker, leased until `leaseExpiresAt`.
    case running
    /// Failed; runs again at `runAt`.
    case retryable
    case completed
    case cancelled
    /// Failed its last attempt (its errors are kept).
    case discarded

    public var isFinal: Bool { self == .completed || self == .cancelled || self == .discarded }
}

/// A job to enqueue.
public struct JobRequest: Sendable {
    public var kind: String
    /// JSON arguments (an object).
    public var args: PostgresJSON
    public var queue: String
    /// 1 (first) to 4 (last).
    public var priority: Int
    public var maxAttempts: Int
    /// Not before this instant (nil: now).
    public var runAt: Date?
    /// Enqueued at most once per key, whoever tries and however often (see `job_uniques`).
    public var uniqueKey: String?
    /// How long the unique key stays claimed (nil: for good).
    public var uniqueFor: Duration?
    /// The dealer the job works for, if any (admin listings are scoped by it).
    public var dealerID: UUID?

    public init(
        kind: String, args: PostgresJSON = PostgresJSON(raw: "{}"), queue: String = "default", priority: Int = 2,
        maxAttempts: Int = 20, runAt: Date? = nil, uniqueKey: String? = nil, uniqueFor: Duration? = nil, dealerID: UUID? = nil
    ) {
        self.kind = kind
        self.args = args
        self.queue = queue
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.uniqueKey = uniqueKey
        self.uniqueFor = uniqueFor
        self.dealerID = dealerID
    }

    /// A request with Codable arguments.
    public init<Args: Encodable>(
        kind: String, arguments: Args, queue: String = "default", priority: Int = 2, maxAttempts: Int = 20,
        runAt: Date? = nil, uniqueKey: String? = nil, uniqueFor: Duration? = nil, dealerID: UUID? = nil
    ) throws {
        self.init(
            kind: kind, args: try PostgresJSON(encoding: arguments), queue: queue, priority: priority,
            maxAttempts: maxAttempts, runAt: runAt, uniqueKey: uniqueKey, uniqueFor: uniqueFor, dealerID: dealerID)
    }
}

/// One failed attempt, as kept on the job (the last `JobRecord.maxKeptErrors`).
public struct JobAttemptError: Sendable, Codable, Equatable {
    public var attempt: Int
    public var at: Date
    public var error: String

    enum CodingKeys: String, CodingKey { case attempt, at, error }

    /// Stored as `{"attempt": n, "at": <Unix seconds>, "error": "..."}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        attempt = try container.decode(Int.self, forKey: .attempt)
        at = Date(timeIntervalSince1970: try container.decode(Double.self, forKey: .at))
        error = try container.decode(String.self, forKey: .error)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(at.timeIntervalSince1970, forKey: .at)
        try container.encode(error, forKey: .error)
    }
}

/// A job as stored.
public struct JobRecord: Sendable {
    public var id: Int64
    public var kind: String
    public var queue: String
    public var args: PostgresJSON
    public var priority: Int
    public var state: JobState
    public var attempt: Int
    public var maxAttempts: Int
    public var runAt: Date
    public var attemptedAt: Date?
    public var attemptedBy: [String]
    public var leaseExpiresAt: Date?
    public var errors: [JobAttemptError]
    public var uniqueKey: String?
    public var dealerID: UUID?
    public var createdAt: Date
    public var finalizedAt: Date?

    /// Errors kept per job: the most recent ones.
    public static let maxKeptErrors = 20

    /// The arguments as JSON text.
    public var argumentsJSON: String { args.raw }
}

/// What `enqueue` did.
public enum EnqueueResult: Sendable, Equatable {
    case inserted(Int64)
    /// The unique key was already claimed, by this job.
    case duplicate(existing: Int64?)

    public var id: Int64? {
        switch self {
        case .inserted(let id): return id
        case .duplicate(let existing): return existing
        }
    }
}

public enum JobQueueError: Error, Sendable, CustomStringConvertible, Equatable {
    case invalidRequest(String)
    case notFound
    case notRetryable(JobState)
    case notCancellable(JobState)

    public var description: String {
        switch self {
        case .invalidRequest(let reason): return "invalid job: \(reason)"
        case .notFound: return "no such job"
        case .notRetryable(let state): return "a \(state.rawValue) job cannot be retried"
        case .notCancellable(let state): return "a \(state.rawValue) job cannot be cancelled"
        }
    }
}
