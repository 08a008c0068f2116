import CRMContract
import CRMDomain
import CRMServices
import Foundation
import OpenAPIRuntime

extension Components.Schemas.Dealer {
    init(_ dealer: Dealer) throws {
        let f = dealer.fields
        self.init(
            id: Output.id(dealer.id), groupId: Output.id(dealer.groupID), name: f.name, brands: f.brands, region: f.region,
            timeZone: f.timeZone,
            settings: .init(
                leadFollowUpDays: f.settings.leadFollowUpDays, leadAssignment: try Input.convert(f.settings.leadAssignment),
                complaints: try .init(f.settings.complaints), reminders: try .init(f.settings.reminders)),
            createdAt: dealer.createdAt, updatedAt: dealer.updatedAt, version: dealer.version)
    }
}

extension Components.Schemas.APIKey {
    init(_ key: APIKeyRecord) throws {
        self.init(
            id: Output.id(key.id), groupId: Output.id(key.groupID), dealerId: key.dealerID.map(Output.id),
            role: try Input.convert(key.role), name: key.name, prefix: key.prefix, staffId: key.staffID.map(Output.id),
            createdAt: key.createdAt, expiresAt: key.expiresAt, revokedAt: key.revokedAt, lastUsedAt: key.lastUsedAt)
    }
}

extension Components.Schemas.Staff {
    init(_ member: StaffMember) throws {
        let f = member.fields
        self.init(
            id: Output.id(member.id), dealerId: Output.id(member.dealerID), name: f.name, function: try Input.convert(f.function),
            phone: f.phone, email: f.email, active: f.active, createdAt: member.createdAt, updatedAt: member.updatedAt,
            version: member.version)
    }
}

/// The writable fields of a dealer as the contract spells them (the merge target of a PATCH).
struct DealerWritable: Codable {
    struct Settings: Codable {
        var leadFollowUpDays: Int?
        var leadAssignment: String?
        var complaints: ComplaintPolicy?
        var reminders: ReminderPolicy?
        enum CodingKeys: String, CodingKey {
            case leadFollowUpDays = "lead_follow_up_days"
            case leadAssignment = "lead_assignment"
            case complaints, reminders
        }
    }
    var name: String
    var brands: [String]?
    var region: String?
    var timeZone: String?
    var settings: Settings?

    enum CodingKeys: String, CodingKey {
        case name, brands, region, settings
        case timeZone = "time_zone"
    }

    init(_ f: DealerFields) {
        name = f.name
        brands = f.brands
        region = f.region
        timeZone = f.timeZone
        settings = Settings(
            leadFollowUpDays: f.settings.leadFollowUpDays, leadAssignment: f.settings.leadAssignment.rawValue,
            complaints: f.settings.complaints, reminders: f.settings.reminders)
    }

    init(_ input: Components.Schemas.DealerInput) throws {
        name = input.name
        brands = input.brands
        region = input.region
        timeZone = input.timeZone
        settings = try input.settings.map {
            Settings(
                leadFollowUpDays: $0.leadFollowUpDays, leadAssignment: $0.leadAssignment?.rawValue,
                complaints: try $0.complaints.map(ComplaintPolicy.init), reminders: try $0.reminders.map(ReminderPolicy.init))
        }
    }

    var fields: DealerFields {
        get throws {
            let defaults = DealerSettings()
            var assignment = defaults.leadAssignment
            if let text = settings?.leadAssignment {
                guard let mode = DealerSettings.LeadAssignmentMode(rawValue: text) else {
                    throw Problem.unprocessable(field: "settings.lead_assignment", "is not one of the allowed values")
                }
                assignment = mode
            }
            return DealerFields(
                name: name, brands: brands ?? [], region: region, timeZone: timeZone ?? DealerFields.defaultTimeZone,
                settings: DealerSettings(
                    leadFollowUpDays: settings?.leadFollowUpDays ?? defaults.leadFollowUpDays, leadAssignment: assignment,
                    complaints: settings?.complaints ?? defaults.complaints, reminders: settings?.reminders ?? defaults.reminders))
        }
    }
}

/// The writable fields of a staff member as the contract spells them.
struct StaffWritable: Codable {
    var name: String
    var function: String
    var phone: String?
    var email: String?
    var active: Bool?

    init(_ f: StaffFields) {
        name = f.name
        function = f.function.rawValue
        phone = f.phone
        email = f.email
        active = f.active
    }

    var fields: StaffFields {
        get throws {
            guard let function = StaffFunction(rawValue: function) else {
                throw Problem.unprocessable(field: "function", "is not one of the allowed values")
            }
            return StaffFields(name: name, function: function, phone: phone, email: email, active: active ?? true)
        }
    }
}

/// `/v1/group`, `/v1/dealers`, `/v1/api-keys`, `/v1/staff`.
extension APIHandler {
    func getGroup(_ input: Operations.GetGroup.Input) async throws -> Operations.GetGroup.Output {
        let group = try await services.access.group(of: try context().principal)
        return .ok(.init(body: .json(.init(id: Output.id(group.id), name: group.name, createdAt: group.createdAt))))
    }

    func listDealers(_ input: Operations.ListDealers.Input) async throws -> Operations.ListDealers.Output {
        let page = try await services.access.dealers(
            by: try context().principal, page: try await pageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(data: try page.items.map(Components.Schemas.Dealer.init), nextCursor: try await nextCursor(page)))))
    }

    func createDealer(_ input: Operations.CreateDealer.Input) async throws -> Operations.CreateDealer.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let caller = try context().principal
        let dealer = try await services.access.createDealer(try DealerWritable(body).fields, groupID: caller.groupID, by: caller)
        Output.etag(dealer.version)
        Output.location("/v1/dealers/\(Output.id(dealer.id))")
        return .created(.init(body: .json(try .init(dealer))))
    }

    func getDealer(_ input: Operations.GetDealer.Input) async throws -> Operations.GetDealer.Output {
        let dealer = try await services.access.dealer(
            try Input.pathID(input.path.dealerId, "dealer"), by: try context().principal)
        Output.etag(dealer.version)
        return .ok(.init(body: .json(try .init(dealer))))
    }

    func updateDealer(_ input: Operations.UpdateDealer.Input) async throws -> Operations.UpdateDealer.Output {
        let caller = try context().principal
        let id = try Input.pathID(input.path.dealerId, "dealer")
        let expected = try Input.expectedVersion(input.headers.ifMatch)
        let current = try await services.access.dealer(id, by: caller)
        let merged = try MergePatch.merge(body: RequestScope.now.body, into: DealerWritable(current.fields))
        let updated = try await services.access.updateDealer(
            id, expectedVersion: expected ?? current.version, fields: try merged.fields, by: caller)
        Output.etag(updated.version)
        return .ok(.init(body: .json(try .init(updated))))
    }

    func listApiKeys(_ input: Operations.ListApiKeys.Input) async throws -> Operations.ListApiKeys.Output {
        let page = try await services.access.keys(
            by: try context().principal, page: try await pageRequest(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(data: try page.items.map(Components.Schemas.APIKey.init), nextCursor: try await nextCursor(page)))))
    }

    func createApiKey(_ input: Operations.CreateApiKey.Input) async throws -> Operations.CreateApiKey.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let (key, secret) = try await services.access.createKey(
            .init(
                role: try Input.convert(body.role), name: body.name, dealerID: try Input.id(body.dealerId, field: "dealer_id"),
                staffID: try Input.id(body.staffId, field: "staff_id"), expiresAt: body.expiresAt),
            by: try context().principal)
        Output.location("/v1/api-keys/\(Output.id(key.id))")
        return .created(.init(body: .json(.init(key: try .init(key), secret: secret))))
    }

    func getApiKey(_ input: Operations.GetApiKey.Input) async throws -> Operations.GetApiKey.Output {
        let key = try await services.access.key(try Input.pathID(input.path.keyId, "API key"), by: try context().principal)
        return .ok(.init(body: .json(try .init(key))))
    }

    func revokeApiKey(_ input: Operations.RevokeApiKey.Input) async throws -> Operations.RevokeApiKey.Output {
        let key = try await services.access.revokeKey(
            try Input.pathID(input.path.keyId, "API key"), by: try context().principal)
        return .ok(.init(body: .json(try .init(key))))
    }

    func listStaff(_ input: Operations.ListStaff.Input) async throws -> Operations.ListStaff.Output {
        let query = input.query
        let page = try await services.staff.list(
            filter: .init(function: try query.function.map { try Input.convert($0) }, active: query.active),
            dealerFilter: try Input.id(query.dealerId, field: "dealer_id"),
            page: try await pageRequest(limit: query.limit, cursor: query.cursor), context: try context())
        return .ok(.init(body: .json(.init(data: try page.items.map(Components.Schemas.Staff.init), nextCursor: try await nextCursor(page)))))
    }

    func createStaff(_ input: Operations.CreateStaff.Input) async throws -> Operations.CreateStaff.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let fields = StaffFields(
            name: body.name, function: try Input.convert(body.function), phone: body.phone, email: body.email,
            active: body.active ?? true)
        let member = try await services.staff.create(
            fields, dealerID: try Input.id(body.dealerId, field: "dealer_id"), context: try context())
        Output.etag(member.version)
        Output.location("/v1/staff/\(Output.id(member.id))")
        return .created(.init(body: .json(try .init(member))))
    }

    func getStaff(_ input: Operations.GetStaff.Input) async throws -> Operations.GetStaff.Output {
        let member = try await services.staff.get(try Input.pathID(input.path.staffId, "staff member"), context: try context())
        Output.etag(member.version)
        return .ok(.init(body: .json(try .init(member))))
    }

    func updateStaff(_ input: Operations.UpdateStaff.Input) async throws -> Operations.UpdateStaff.Output {
        let context = try context()
        let id = try Input.pathID(input.path.staffId, "staff member")
        let expected = try Input.expectedVersion(input.headers.ifMatch)
        let current = try await services.staff.get(id, context: context)
        let merged = try MergePatch.merge(body: RequestScope.now.body, into: StaffWritable(current.fields))
        let updated = try await services.staff.update(
            id, expectedVersion: expected ?? current.version, fields: try merged.fields, context: context)
        Output.etag(updated.version)
        return .ok(.init(body: .json(try .init(updated))))
    }
}
