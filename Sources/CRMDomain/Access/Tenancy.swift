public import Foundation

/// Which dealers' rows a caller may see. Every repository query that touches dealer-owned rows
/// takes a scope and restricts its rows to it (CRMStore `TenantScope.condition`): the one place
/// the tenant wall is built, so a caller never sees, lists or changes another dealer's rows.
public enum TenantScope: Sendable, Equatable {
    /// One dealer (a dealer's key, or a group key narrowed with `?dealer_id=`).
    case dealer(UUID)
    /// Every dealer of an OEM group (a group key).
    case group(UUID)

    /// The single dealer, when the scope is one dealer.
    public var singleDealer: UUID? {
        if case .dealer(let id) = self { return id }
        return nil
    }
}

public struct OEMGroup: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var createdAt: Date

    public init(id: UUID, name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

/// A dealer's settings. Every number DOMAIN.md gives as a default is here, changeable per
/// dealer.
public struct DealerSettings: Sendable, Equatable, Codable {
    /// A lead not followed up within this many days of its assignment or planned contact returns
    /// to the shared pool.
    public var leadFollowUpDays: Int
    /// How new leads without a consultant are assigned.
    public var leadAssignment: LeadAssignmentMode
    /// Complaint SLAs, the business calendar, satisfaction callbacks, survey integrity.
    public var complaints: ComplaintPolicy
    /// Reminder lead times, the scan and send times, frequency cap, return window, control group.
    public var reminders: ReminderPolicy

    public enum LeadAssignmentMode: String, Sendable, Equatable, Codable, CaseIterable {
        case manual
        case roundRobin = "round_robin"
    }

    public init(
        leadFollowUpDays: Int = 3, leadAssignment: LeadAssignmentMode = .manual, complaints: ComplaintPolicy = ComplaintPolicy(),
        reminders: ReminderPolicy = ReminderPolicy()
    ) {
        self.leadFollowUpDays = leadFollowUpDays
        self.leadAssignment = leadAssignment
        self.complaints = complaints
        self.reminders = reminders
    }

    enum CodingKeys: String, CodingKey {
        case leadFollowUpDays = "lead_follow_up_days"
        case leadAssignment = "lead_assignment"
        case complaints
        case reminders
    }

    /// Missing keys take their defaults, so settings stored before a new setting existed load.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = DealerSettings()
        leadFollowUpDays = try container.decodeIfPresent(Int.self, forKey: .leadFollowUpDays) ?? defaults.leadFollowUpDays
        leadAssignment = try container.decodeIfPresent(LeadAssignmentMode.self, forKey: .leadAssignment) ?? defaults.leadAssignment
        complaints = try container.decodeIfPresent(ComplaintPolicy.self, forKey: .complaints) ?? defaults.complaints
        reminders = try container.decodeIfPresent(ReminderPolicy.self, forKey: .reminders) ?? defaults.reminders
    }

    public func validated() throws(ValidationErrors) -> DealerSettings {
        var errors = ValidationErrors()
        if !(1...90).contains(leadFollowUpDays) { errors.add("settings.lead_follow_up_days", "must be between 1 and 90") }
        do {
            _ = try complaints.validated()
        } catch {
            errors.merge(error)
        }
        do {
            _ = try reminders.validated()
        } catch {
            errors.merge(error)
        }
        try errors.throwIfAny()
        return self
    }
}

/// The writable attributes of a dealer.
public struct DealerFields: Sendable, Equatable {
    public var name: String
    public var brands: [String]
    public var region: String?
    public var timeZone: String
    public var settings: DealerSettings

    public init(name: String, brands: [String], region: String?, timeZone: String, settings: DealerSettings) {
        self.name = name
        self.brands = brands
        self.region = region
        self.timeZone = timeZone
        self.settings = settings
    }

    public static let defaultTimeZone = "Asia/Shanghai"
    /// China Standard Time, the default dealer zone.
    public static let defaultZone = TimeZone(identifier: defaultTimeZone) ?? TimeZone(secondsFromGMT: 8 * 3600) ?? .gmt

    public func validated() throws(ValidationErrors) -> DealerFields {
        var errors = ValidationErrors()
        var result = self
        result.name = Text.required(name, field: "name", maxLength: 200, errors: &errors) ?? name
        result.brands = Text.tags(brands, field: "brands", errors: &errors)
        result.region = Text.optional(region, field: "region", maxLength: 100, errors: &errors)
        if TimeZone(identifier: timeZone) == nil || !timeZone.contains("/") && timeZone != "UTC" {
            errors.add("time_zone", "is not an IANA time zone such as Asia/Shanghai")
        }
        do {
            result.settings = try settings.validated()
        } catch {
            errors.merge(error)
        }
        try errors.throwIfAny()
        return result
    }
}

public struct Dealer: Sendable, Equatable {
    public var id: UUID
    public var groupID: UUID
    public var fields: DealerFields
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    public init(id: UUID, groupID: UUID, fields: DealerFields, createdAt: Date, updatedAt: Date, version: Int) {
        self.id = id
        self.groupID = groupID
        self.fields = fields
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }

    /// The dealer's calendar (dates such as "today" and birthdays are in its time zone). The zone
    /// is validated on every write; a stored name this system no longer knows reads as the
    /// default zone.
    public var timeZone: TimeZone {
        TimeZone(identifier: fields.timeZone) ?? DealerFields.defaultZone
    }

    /// The dealer's calendar date at `now` (the clock's instant).
    public func today(at now: Date) -> LocalDate { LocalDate(now, in: timeZone) }
}

/// An API key as stored (never the secret).
public struct APIKeyRecord: Sendable, Equatable {
    public var id: UUID
    public var groupID: UUID
    public var dealerID: UUID?
    public var role: Role
    public var name: String
    public var prefix: String
    public var staffID: UUID?
    /// Whether the staff member the key belongs to is active (nil: a key of nobody's).
    public var staffActive: Bool?
    public var createdAt: Date
    public var createdByKeyID: UUID?
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var lastUsedAt: Date?

    public init(
        id: UUID, groupID: UUID, dealerID: UUID?, role: Role, name: String, prefix: String, staffID: UUID?,
        staffActive: Bool? = nil, createdAt: Date, createdByKeyID: UUID?, expiresAt: Date?, revokedAt: Date?,
        lastUsedAt: Date?
    ) {
        self.id = id
        self.groupID = groupID
        self.dealerID = dealerID
        self.role = role
        self.name = name
        self.prefix = prefix
        self.staffID = staffID
        self.staffActive = staffActive
        self.createdAt = createdAt
        self.createdByKeyID = createdByKeyID
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }

    /// Why the key cannot be used at `now` (revoked, expired, its staff member deactivated), or
    /// nil when it can.
    public func refusal(at now: Date) -> String? {
        if revokedAt != nil { return "The API key has been revoked." }
        if let expiresAt, expiresAt <= now { return "The API key has expired." }
        if staffID != nil, staffActive != true { return "The API key's staff member has been deactivated." }
        return nil
    }

    public var principal: Principal {
        Principal(keyID: id, role: role, groupID: groupID, dealerID: dealerID, staffID: staffID)
    }
}

/// The writable attributes of a staff member.
public struct StaffFields: Sendable, Equatable {
    public var name: String
    public var function: StaffFunction
    public var phone: String?
    public var email: String?
    public var active: Bool

    public init(name: String, function: StaffFunction, phone: String?, email: String?, active: Bool) {
        self.name = name
        self.function = function
        self.phone = phone
        self.email = email
        self.active = active
    }

    public func validated() throws(ValidationErrors) -> StaffFields {
        var errors = ValidationErrors()
        var result = self
        result.name = Text.required(name, field: "name", maxLength: 100, errors: &errors) ?? name
        result.phone = PhoneNumber.normalized(phone, errors: &errors)
        result.email = Text.optional(email, field: "email", maxLength: 254, errors: &errors)
        try errors.throwIfAny()
        return result
    }
}

public struct StaffMember: Sendable, Equatable {
    public var id: UUID
    public var dealerID: UUID
    public var fields: StaffFields
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    public init(id: UUID, dealerID: UUID, fields: StaffFields, createdAt: Date, updatedAt: Date, version: Int) {
        self.id = id
        self.dealerID = dealerID
        self.fields = fields
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }
}

/// Filters of the staff list.
public struct StaffFilter: Sendable, Equatable {
    public var function: StaffFunction?
    public var active: Bool?

    public init(function: StaffFunction? = nil, active: Bool? = nil) {
        self.function = function
        self.active = active
    }
}
