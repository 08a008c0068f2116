public import Foundation

/// A postal address; `community` is the residential community (小区) dealers segment by.
public struct Address: Sendable, Equatable, Codable {
    public var province: String?
    public var city: String?
    public var district: String?
    public var community: String?
    public var street: String?
    public var postalCode: String?

    public init(
        province: String? = nil, city: String? = nil, district: String? = nil, community: String? = nil,
        street: String? = nil, postalCode: String? = nil
    ) {
        self.province = province
        self.city = city
        self.district = district
        self.community = community
        self.street = street
        self.postalCode = postalCode
    }

    enum CodingKeys: String, CodingKey {
        case province, city, district, community, street
        case postalCode = "postal_code"
    }

    public var isEmpty: Bool {
        // Field by field: an array of the six took 1.5% of a page of customers.
        province == nil && city == nil && district == nil && community == nil && street == nil && postalCode == nil
    }
}

/// Purchase preferences the sources name: colour, trim, decision time.
public struct PurchasePreferences: Sendable, Equatable, Codable {
    public var colour: String?
    public var trim: String?
    /// How long the customer typically takes to decide, in days.
    public var decisionDays: Int?

    public init(colour: String? = nil, trim: String? = nil, decisionDays: Int? = nil) {
        self.colour = colour
        self.trim = trim
        self.decisionDays = decisionDays
    }

    enum CodingKeys: String, CodingKey {
        case colour, trim
        case decisionDays = "decision_days"
    }
}

/// The writable attributes of a customer (create input; the merge target of a PATCH).
public struct CustomerFields: Sendable, Equatable {
    public var kind: CustomerKind
    public var name: String
    public var surname: String?
    public var gender: Gender?
    public var phone: String?
    public var email: String?
    public var birthday: LocalDate?
    public var address: Address?
    public var occupation: String?
    public var employer: String?
    public var incomeBand: IncomeBand?
    public var hobbies: [String]
    public var maritalStatus: MaritalStatus?
    public var children: Int?
    public var fleetCategory: FleetCategory?
    public var fleetAgreementEnds: LocalDate?
    public var preferredBrands: [String]
    public var preferences: PurchasePreferences
    public var tags: [String]
    public var notes: String?

    public init(
        kind: CustomerKind, name: String, surname: String? = nil, gender: Gender? = nil, phone: String? = nil,
        email: String? = nil, birthday: LocalDate? = nil, address: Address? = nil, occupation: String? = nil,
        employer: String? = nil, incomeBand: IncomeBand? = nil, hobbies: [String] = [], maritalStatus: MaritalStatus? = nil,
        children: Int? = nil, fleetCategory: FleetCategory? = nil, fleetAgreementEnds: LocalDate? = nil,
        preferredBrands: [String] = [], preferences: PurchasePreferences = PurchasePreferences(), tags: [String] = [],
        notes: String? = nil
    ) {
        self.kind = kind
        self.name = name
        self.surname = surname
        self.gender = gender
        self.phone = phone
        self.email = email
        self.birthday = birthday
        self.address = address
        self.occupation = occupation
        self.employer = employer
        self.incomeBand = incomeBand
        self.hobbies = hobbies
        self.maritalStatus = maritalStatus
        self.children = children
        self.fleetCategory = fleetCategory
        self.fleetAgreementEnds = fleetAgreementEnds
        self.preferredBrands = preferredBrands
        self.preferences = preferences
        self.tags = tags
        self.notes = notes
    }

    /// Checks and normalises the fields (trimmed text, E.164 phone, de-duplicated lists).
    /// `today` is the dealer's calendar date (a birthday cannot be in the future).
    public func validated(today: LocalDate) throws(ValidationErrors) -> CustomerFields {
        var errors = ValidationErrors()
        var result = self
        result.name = Text.required(name, field: "name", maxLength: 200, errors: &errors) ?? name
        result.surname = Text.optional(surname, field: "surname", maxLength: 50, errors: &errors)
        result.phone = PhoneNumber.normalized(phone, errors: &errors)
        if let email = Text.optional(email, field: "email", maxLength: 254, errors: &errors) {
            let parts = email.split(separator: "@", omittingEmptySubsequences: false)
            if parts.count != 2 || parts[0].isEmpty || !parts[1].contains(".") || email.contains(" ") {
                errors.add("email", "is not an e-mail address")
            }
            result.email = email
        } else {
            result.email = nil
        }
        if let birthday {
            if birthday > today { errors.add("birthday", "cannot be in the future") }
            if birthday.year < 1900 { errors.add("birthday", "must be after 1900") }
        }
        if let address {
            var clean = Address(
                province: Text.optional(address.province, field: "address.province", maxLength: 50, errors: &errors),
                city: Text.optional(address.city, field: "address.city", maxLength: 50, errors: &errors),
                district: Text.optional(address.district, field: "address.district", maxLength: 50, errors: &errors),
                community: Text.optional(address.community, field: "address.community", maxLength: 100, errors: &errors),
                street: Text.optional(address.street, field: "address.street", maxLength: 200, errors: &errors),
                postalCode: Text.optional(address.postalCode, field: "address.postal_code", maxLength: 12, errors: &errors))
            if clean.isEmpty { clean = Address() }
            result.address = clean.isEmpty ? nil : clean
        }
        result.occupation = Text.optional(occupation, field: "occupation", maxLength: 100, errors: &errors)
        result.employer = Text.optional(employer, field: "employer", maxLength: 200, errors: &errors)
        result.hobbies = Text.tags(hobbies, field: "hobbies", errors: &errors)
        if let children, !(0...20).contains(children) { errors.add("children", "must be between 0 and 20") }
        if kind == .person, fleetCategory != nil, fleetCategory != .employee, fleetCategory != .vip {
            errors.add("fleet_category", "only companies have a fleet category other than employee or vip")
        }
        result.preferredBrands = Text.tags(preferredBrands, field: "preferred_brands", errors: &errors)
        result.preferences.colour = Text.optional(preferences.colour, field: "preferences.colour", maxLength: 50, errors: &errors)
        result.preferences.trim = Text.optional(preferences.trim, field: "preferences.trim", maxLength: 100, errors: &errors)
        if let days = preferences.decisionDays, !(0...3650).contains(days) {
            errors.add("preferences.decision_days", "must be between 0 and 3650")
        }
        result.tags = Text.tags(tags, field: "tags", errors: &errors)
        result.notes = Text.optional(notes, field: "notes", maxLength: 4000, errors: &errors)
        if !errors.isEmpty { throw errors }
        return result
    }

    /// Contact fields: every change to one is written to the audit trail (who, when, old -> new).
    public static let auditedFields: Set<String> = ["name", "surname", "phone", "email", "address"]
}

/// A customer as stored.
public struct Customer: Sendable, Equatable {
    public var id: UUID
    public var dealerID: UUID
    public var fields: CustomerFields
    public var erasedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    public init(
        id: UUID, dealerID: UUID, fields: CustomerFields, erasedAt: Date?, createdAt: Date, updatedAt: Date, version: Int
    ) {
        self.id = id
        self.dealerID = dealerID
        self.fields = fields
        self.erasedAt = erasedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }
}

/// One field's change, as the audit trail records it (values rendered as text; nil = empty).
public struct FieldChange: Sendable, Equatable, Codable {
    public var field: String
    public var old: String?
    public var new: String?

    public init(field: String, old: String?, new: String?) {
        self.field = field
        self.old = old
        self.new = new
    }
}

extension CustomerFields {
    /// The audited (contact) fields that differ between `self` and `other`.
    public func contactChanges(to other: CustomerFields) -> [FieldChange] {
        var changes: [FieldChange] = []
        func compare(_ field: String, _ old: String?, _ new: String?) {
            if old != new { changes.append(FieldChange(field: field, old: old, new: new)) }
        }
        compare("name", name, other.name)
        compare("surname", surname, other.surname)
        compare("phone", phone, other.phone)
        compare("email", email, other.email)
        compare("address", address.flatMap(Self.render), other.address.flatMap(Self.render))
        return changes
    }

    static func render(_ address: Address) -> String? {
        let parts = [address.province, address.city, address.district, address.community, address.street, address.postalCode]
            .compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }

    /// What erasure leaves: the kind, a placeholder name, nothing personal. Tags and
    /// preferences are kept only when they are not about the person (none are, so all go).
    public func erased() -> CustomerFields {
        CustomerFields(kind: kind, name: "(erased)")
    }
}
