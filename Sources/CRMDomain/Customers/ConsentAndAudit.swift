public import Foundation

/// One consent change (granted or withdrawn) for a channel; the current state per channel is
/// the latest effective one.
public struct ConsentEvent: Sendable, Equatable {
    public var id: UUID
    public var customerID: UUID
    public var channel: ConsentChannel
    public var status: ConsentStatus
    public var effectiveAt: Date
    public var source: ConsentSource
    public var note: String?
    public var actorKeyID: UUID?
    public var actorStaffID: UUID?
    public var recordedAt: Date

    public init(
        id: UUID, customerID: UUID, channel: ConsentChannel, status: ConsentStatus, effectiveAt: Date,
        source: ConsentSource, note: String?, actorKeyID: UUID?, actorStaffID: UUID?, recordedAt: Date
    ) {
        self.id = id
        self.customerID = customerID
        self.channel = channel
        self.status = status
        self.effectiveAt = effectiveAt
        self.source = source
        self.note = note
        self.actorKeyID = actorKeyID
        self.actorStaffID = actorStaffID
        self.recordedAt = recordedAt
    }
}

/// The current consent for one channel.
public struct ConsentState: Sendable, Equatable {
    public var channel: ConsentChannel
    public var status: ConsentStatus
    public var effectiveAt: Date
    public var source: ConsentSource

    public init(channel: ConsentChannel, status: ConsentStatus, effectiveAt: Date, source: ConsentSource) {
        self.channel = channel
        self.status = status
        self.effectiveAt = effectiveAt
        self.source = source
    }

    /// Marketing through `channel` is allowed only with a current grant (permission marketing).
    public static func allowsMarketing(_ states: [ConsentState], via channel: ConsentChannel) -> Bool {
        states.first { $0.channel == channel }?.status == .granted
    }
}

/// Who did something: the key, its staff member and role, and the request.
public struct Actor: Sendable, Equatable {
    public var keyID: UUID?
    public var staffID: UUID?
    public var role: Role?
    public var requestID: String?

    public init(keyID: UUID?, staffID: UUID?, role: Role?, requestID: String?) {
        self.keyID = keyID
        self.staffID = staffID
        self.role = role
        self.requestID = requestID
    }

    public init(principal: Principal, requestID: String?) {
        self.init(keyID: principal.keyID, staffID: principal.staffID, role: principal.role, requestID: requestID)
    }

    /// Work the system does on its own (jobs, seeding).
    public static let system = Actor(keyID: nil, staffID: nil, role: nil, requestID: nil)
}

public enum AuditAction: String, Sendable, Codable, CaseIterable {
    case create
    case update
    case delete
    case erase
    case consent
}

/// One entry of the audit trail.
public struct AuditEvent: Sendable, Equatable {
    public var id: UUID
    public var customerID: UUID?
    public var entity: String
    public var entityID: UUID
    public var action: AuditAction
    public var changes: [FieldChange]
    public var actor: Actor
    public var at: Date

    public init(
        id: UUID, customerID: UUID?, entity: String, entityID: UUID, action: AuditAction, changes: [FieldChange],
        actor: Actor, at: Date
    ) {
        self.id = id
        self.customerID = customerID
        self.entity = entity
        self.entityID = entityID
        self.action = action
        self.changes = changes
        self.actor = actor
        self.at = at
    }
}
