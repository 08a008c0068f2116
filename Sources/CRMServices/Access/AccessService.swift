public import CRMDomain
public import CRMStore
import Crypto
public import JobQueue
public import Foundation
public import Logging
public import PostgresClient
import Synchronization

/// API keys (authentication, creation, revocation), OEM groups and dealers, and the tenant
/// scope each caller gets.
public final class AccessService: Sendable {
    let pool: PostgresPool
    let logger: Logger
    let clock: any BusinessClock
    let repository = AccessRepository()
    /// Authenticated keys by their secret: a hit costs a dictionary lookup, no hashing.
    private let cache = Mutex<[String: CachedKey]>([:])
    private let dealerCache = Mutex<[UUID: CachedDealer]>([:])
    private let usage = Mutex<[UUID: Date]>([:])
    /// How long an authenticated key is trusted without looking at the database again.
    /// Revocation is immediate in the revoking process and, through NOTIFY, in every other one;
    /// the TTL bounds staleness when a notification is lost.
    let cacheLifetime: Duration

    private struct CachedKey {
        let record: APIKeyRecord
        let loadedAt: ContinuousClock.Instant
    }

    private struct CachedDealer {
        let dealer: Dealer
        let loadedAt: ContinuousClock.Instant
    }

    /// The NOTIFY channel on which key revocations are announced.
    public static let keyChangesChannel = "crm_api_keys"

    public init(pool: PostgresPool, logger: Logger, clock: any BusinessClock, cacheLifetime: Duration = .seconds(30)) {
        self.pool = pool
        self.logger = logger
        self.clock = clock
        self.cacheLifetime = cacheLifetime
    }

    // MARK: Keys

    /// A new key's secret: `crm_` + 40 base62 characters (238 bits of randomness).
    public static func generateSecret() -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var generator = SystemRandomNumberGenerator()
        return "crm_" + String((0..<40).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    static func hash(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(secret.utf8)))
    }

    /// The caller behind `Authorization: Bearer <key>`.
    public func authenticate(bearer secret: String) async throws -> Principal {
        guard secret.hasPrefix("crm_"), secret.utf8.count == 44 else {
            throw ServiceError.unauthenticated("The API key is not valid.")
        }
        let now = ContinuousClock.now
        let cached = cache.withLock { cache -> APIKeyRecord? in
            guard let entry = cache[secret], now - entry.loadedAt < cacheLifetime else { return nil }
            return entry.record
        }
        let record: APIKeyRecord
        if let cached {
            record = cached
        } else {
            guard let loaded = try await repository.key(secretHash: Self.hash(secret), in: pool) else {
                throw ServiceError.unauthenticated("The API key is not valid.")
            }
            cache.withLock { $0[secret] = CachedKey(record: loaded, loadedAt: now) }
            record = loaded
        }
        let instant = clock.now
        if let refusal = record.refusal(at: instant) { throw ServiceError.unauthenticated(refusal) }
        usage.withLock { $0[record.id] = instant }
        return record.principal
    }

    /// Forgets cached keys (a key was revoked or its staff member deactivated, here or, through
    /// NOTIFY, elsewhere).
    public func invalidateKeys() {
        cache.withLock { $0.removeAll() }
    }

    /// Forgets cached dealers (their settings and time zones are read again on next use).
    public func invalidateDealers() {
        dealerCache.withLock { $0.removeAll() }
    }

    /// Writes the batched "last used" times (called periodically, and at shutdown).
    public func flushKeyUsage() async {
        let uses = usage.withLock { usage -> [(UUID, Date)] in
            defer { usage.removeAll() }
            return usage.map { ($0.key, $0.value) }
        }
        guard !uses.isEmpty else { return }
        do {
            try await repository.touchKeys(uses, in: pool)
        } catch {
            logger.warning("could not record key usage", metadata: ["error": "\(error)"])
            usage.withLock { usage in
                for (id, at) in uses where usage[id] == nil { usage[id] = at }
            }
        }
    }

    public struct NewKey: Sendable {
        public var role: Role
        public var name: String
        /// For a group admin: the dealer the key is for (nil: a group key).
        public var dealerID: UUID?
        public var staffID: UUID?
        public var expiresAt: Date?

        public init(role: Role, name: String, dealerID: UUID?, staffID: UUID?, expiresAt: Date?) {
            self.role = role
            self.name = name
            self.dealerID = dealerID
            self.staffID = staffID
            self.expiresAt = expiresAt
        }
    }

    /// Creates a key and returns it with its secret (shown this once; only its hash is kept).
    public func createKey(_ request: NewKey, by caller: Principal) async throws -> (APIKeyRecord, String) {
        try Authorization.require(.keysManage, caller)
        var errors = ValidationErrors()
        let name = Text.required(request.name, field: "name", maxLength: 100, errors: &errors)
        if let expiry = request.expiresAt, expiry <= clock.now { errors.add("expires_at", "must be in the future") }
        let dealerID: UUID?
        if let own = caller.dealerID {
            if let requested = request.dealerID, requested != own {
                errors.add("dealer_id", "a dealer's admin creates keys for its own dealer only")
            }
            dealerID = own
        } else if let requested = request.dealerID {
            guard try await dealer(requested, inGroup: caller.groupID, in: pool) != nil else {
                errors.add("dealer_id", "is not a dealer of your group")
                throw errors
            }
            dealerID = requested
        } else {
            dealerID = nil
        }
        if request.staffID != nil, dealerID == nil { errors.add("staff_id", "only a dealer's key can belong to a staff member") }
        try errors.throwIfAny()
        if let staffID = request.staffID, let dealerID {
            guard try await StaffRepository().find(id: staffID, scope: .dealer(dealerID), in: pool) != nil else {
                throw ValidationErrors(field: "staff_id", "is not a staff member of this dealer")
            }
        }
        return try await issueKey(
            groupID: caller.groupID, dealerID: dealerID, role: request.role, name: name ?? "", staffID: request.staffID,
            expiresAt: request.expiresAt, createdBy: caller.keyID)
    }

    /// Issues a key without a calling principal (the CLI's bootstrap).
    public func issueKey(
        groupID: UUID, dealerID: UUID?, role: Role, name: String, staffID: UUID?, expiresAt: Date?, createdBy: UUID?
    ) async throws -> (APIKeyRecord, String) {
        let secret = Self.generateSecret()
        let draft = APIKeyRecord(
            id: UUID(), groupID: groupID, dealerID: dealerID, role: role, name: name, prefix: String(secret.prefix(12)),
            staffID: staffID, createdAt: clock.now, createdByKeyID: createdBy, expiresAt: expiresAt, revokedAt: nil,
            lastUsedAt: nil)
        let stored = try await repository.insertKey(draft, secretHash: Self.hash(secret), in: pool)
        return (stored, secret)
    }

    func keyScope(_ caller: Principal) -> KeyScope {
        caller.dealerID.map(KeyScope.dealer) ?? .group(caller.groupID)
    }

    public func keys(by caller: Principal, page: PageRequest) async throws -> Page<APIKeyRecord> {
        try Authorization.require(.keysManage, caller)
        return try await repository.keys(visibleTo: keyScope(caller), page: page, in: pool)
    }

    public func key(_ id: UUID, by caller: Principal) async throws -> APIKeyRecord {
        try Authorization.require(.keysManage, caller)
        guard let key = try await repository.key(id: id, visibleTo: keyScope(caller), in: pool) else {
            throw ServiceError.notFound("No such API key.")
        }
        return key
    }

    /// Revokes a key at once: here, and in other processes through NOTIFY.
    public func revokeKey(_ id: UUID, by caller: Principal) async throws -> APIKeyRecord {
        try Authorization.require(.keysManage, caller)
        if id == caller.keyID {
            throw ServiceError.conflict("A key cannot revoke itself; revoke it with another admin key.")
        }
        let scope = keyScope(caller)
        let now = clock.now
        let revoked = try await pool.withTransaction { tx -> APIKeyRecord? in
            let key = try await repository.revokeKey(id: id, visibleTo: scope, now: now, in: tx)
            if key != nil { try await tx.notify(channel: Self.keyChangesChannel, payload: id.lowercasedText) }
            return key
        }
        guard let revoked else { throw ServiceError.notFound("No such API key.") }
        invalidateKeys()
        return revoked
    }

    // MARK: Groups and dealers

    public func createGroup(name: String) async throws -> OEMGroup {
        var errors = ValidationErrors()
        let clean = Text.required(name, field: "name", maxLength: 200, errors: &errors)
        try errors.throwIfAny()
        return try await repository.insertGroup(id: UUID(), name: clean ?? name, now: clock.now, in: pool)
    }

    public func group(of caller: Principal) async throws -> OEMGroup {
        try Authorization.require(.groupRead, caller)
        guard let group = try await repository.group(id: caller.groupID, in: pool) else {
            throw ServiceError.notFound("No such group.")
        }
        return group
    }

    /// Creates a dealer in the caller's group (a group admin), or in `groupID` (the CLI).
    public func createDealer(_ fields: DealerFields, groupID: UUID, by caller: Principal?) async throws -> Dealer {
        if let caller {
            try Authorization.require(.dealersManage, caller)
            guard caller.isGroupKey else { throw ServiceError.forbidden("Only a group's key can create dealers.") }
        }
        let clean = try fields.validated()
        let owner = caller?.groupID ?? groupID
        guard try await repository.group(id: owner, in: pool) != nil else { throw ValidationErrors(field: "group_id", "no such group") }
        return try await repository.insertDealer(id: UUID(), groupID: owner, fields: clean, now: clock.now, in: pool)
    }

    public func dealer(_ id: UUID, by caller: Principal) async throws -> Dealer {
        try Authorization.require(.dealersRead, caller)
        guard let dealer = try await repository.dealer(id: id, visibleTo: caller.readScope, in: pool) else {
            throw ServiceError.notFound("No such dealer.")
        }
        return dealer
    }

    public func dealers(by caller: Principal, page: PageRequest) async throws -> Page<Dealer> {
        try Authorization.require(.dealersRead, caller)
        return try await repository.dealers(visibleTo: caller.readScope, page: page, in: pool)
    }

    /// A dealer admin edits its dealer; a group admin any dealer of the group.
    public func updateDealer(_ id: UUID, expectedVersion: Int, fields: DealerFields, by caller: Principal) async throws
        -> Dealer
    {
        try Authorization.require(.dealersManage, caller)
        let clean = try fields.validated()
        let now = clock.now
        let updated = try await pool.withTransaction { tx -> Dealer in
            guard let current = try await repository.lockDealer(id: id, visibleTo: caller.readScope, in: tx) else {
                throw ServiceError.notFound("No such dealer.")
            }
            guard current.version == expectedVersion else { throw ServiceError.stale(currentVersion: current.version) }
            var changed = current
            changed.fields = clean
            return try await repository.saveDealer(changed, now: now, in: tx)
        }
        dealerCache.withLock { _ = $0.removeValue(forKey: id) }
        return updated
    }

    /// A dealer by id, read through `db` (a use case's own transaction) unless cached; cached
    /// briefly (time zones and settings are read on many writes). For callers that already hold
    /// a row of the dealer's or are the system; callers naming a dealer go through `readScope`
    /// and `writeDealer`.
    /// A due list's "today": the dealer's calendar date at `now` when the list is one dealer's
    /// (`dealerID`), nil for a group's (each row then takes its own dealer's date, in SQL).
    public func today(ofSingleDealer dealerID: UUID?, at now: Date, in db: some PostgresQueryable) async throws -> LocalDate? {
        guard let dealerID else { return nil }
        return try await dealer(dealerID, in: db)?.today(at: now)
    }

    public func dealer(_ id: UUID, in db: some PostgresQueryable) async throws -> Dealer? {
        let now = ContinuousClock.now
        if let cached = dealerCache.withLock({ $0[id] }), now - cached.loadedAt < cacheLifetime { return cached.dealer }
        guard let dealer = try await repository.dealer(id: id, in: db) else { return nil }
        dealerCache.withLock { $0[id] = CachedDealer(dealer: dealer, loadedAt: now) }
        return dealer
    }

    /// A dealer of `groupID` (nil for a dealer of another group), cached like `dealer(_:in:)`.
    public func dealer(_ id: UUID, inGroup groupID: UUID, in db: some PostgresQueryable) async throws -> Dealer? {
        guard let dealer = try await dealer(id, in: db), dealer.groupID == groupID else { return nil }
        return dealer
    }

    /// Every dealer as a periodic-job scope in its own time zone.
    public func dealerScopes() async throws -> [PeriodicScope] {
        try await repository.dealerTimeZones(in: pool).map {
            .dealer($0.id, timeZone: TimeZone(identifier: $0.timeZone) ?? DealerFields.defaultZone)
        }
    }

    // MARK: Scopes

    /// The dealers a caller reads: its own dealer; for a group key its group's dealers, or one
    /// of them when the caller narrows with `dealer_id`. Naming a dealer outside the caller's
    /// reach is a 422 that does not say whether that dealer exists.
    public func readScope(_ caller: Principal, dealerFilter: UUID?) async throws -> TenantScope {
        guard let filter = dealerFilter else { return caller.readScope }
        if let own = caller.dealerID {
            guard filter == own else { throw ValidationErrors(field: "dealer_id", "is not a dealer you can read") }
            return .dealer(own)
        }
        guard try await dealer(filter, inGroup: caller.groupID, in: pool) != nil else {
            throw ValidationErrors(field: "dealer_id", "is not a dealer you can read")
        }
        return .dealer(filter)
    }

    /// The dealer a new record goes to: a dealer key's own dealer; for a group key the dealer it
    /// names (required), which must be in its group.
    public func writeDealer(_ caller: Principal, requested: UUID?, in db: some PostgresQueryable) async throws -> Dealer {
        if let own = caller.dealerID {
            if let requested, requested != own {
                throw ValidationErrors(field: "dealer_id", "a dealer's key writes to its own dealer only")
            }
            guard let dealer = try await dealer(own, inGroup: caller.groupID, in: db) else {
                throw ServiceError.unauthenticated("The key's dealer no longer exists.")
            }
            return dealer
        }
        guard let requested else {
            throw ValidationErrors(field: "dealer_id", "is required for a group key: name the dealer to write to")
        }
        guard let dealer = try await dealer(requested, inGroup: caller.groupID, in: db) else {
            throw ValidationErrors(field: "dealer_id", "is not a dealer of your group")
        }
        return dealer
    }
}
