import CRMContract
import CRMDomain
import CRMServices
import Foundation

/// Customers between the contract's types and the domain's.
extension Components.Schemas.Customer {
    init(_ customer: Customer) throws {
        let f = customer.fields
        self.init(
            id: Output.id(customer.id), dealerId: Output.id(customer.dealerID), kind: try Input.convert(f.kind), name: f.name,
            surname: f.surname, gender: try f.gender.map { try Input.convert($0) }, phone: f.phone, email: f.email,
            birthday: f.birthday?.description, address: f.address.map(Components.Schemas.Address.init),
            occupation: f.occupation, employer: f.employer, incomeBand: try f.incomeBand.map { try Input.convert($0) },
            hobbies: f.hobbies, maritalStatus: try f.maritalStatus.map { try Input.convert($0) }, children: f.children,
            fleetCategory: try f.fleetCategory.map { try Input.convert($0) },
            fleetAgreementEnds: f.fleetAgreementEnds?.description, preferredBrands: f.preferredBrands,
            preferences: .init(colour: f.preferences.colour, trim: f.preferences.trim, decisionDays: f.preferences.decisionDays),
            tags: f.tags, notes: f.notes, erasedAt: customer.erasedAt, createdAt: customer.createdAt,
            updatedAt: customer.updatedAt, version: customer.version)
    }
}

extension Components.Schemas.Address {
    init(_ address: Address) {
        self.init(
            province: address.province, city: address.city, district: address.district, community: address.community,
            street: address.street, postalCode: address.postalCode)
    }
}

extension Components.Schemas.CustomerInput {
    /// The writable fields of a stored customer, as the merge target of a PATCH.
    init(_ fields: CustomerFields) throws {
        self.init(
            kind: try Input.convert(fields.kind), name: fields.name, surname: fields.surname,
            gender: try fields.gender.map { try Input.convert($0) }, phone: fields.phone, email: fields.email,
            birthday: fields.birthday?.description, address: fields.address.map(Components.Schemas.Address.init),
            occupation: fields.occupation, employer: fields.employer,
            incomeBand: try fields.incomeBand.map { try Input.convert($0) }, hobbies: fields.hobbies,
            maritalStatus: try fields.maritalStatus.map { try Input.convert($0) }, children: fields.children,
            fleetCategory: try fields.fleetCategory.map { try Input.convert($0) },
            fleetAgreementEnds: fields.fleetAgreementEnds?.description, preferredBrands: fields.preferredBrands,
            preferences: .init(
                colour: fields.preferences.colour, trim: fields.preferences.trim,
                decisionDays: fields.preferences.decisionDays),
            tags: fields.tags, notes: fields.notes)
    }

    var fields: CustomerFields {
        get throws {
            CustomerFields(
                kind: try Input.convert(kind), name: name, surname: surname, gender: try gender.map { try Input.convert($0) },
                phone: phone, email: email, birthday: try Input.date(birthday, field: "birthday"),
                address: address.map {
                    Address(
                        province: $0.province, city: $0.city, district: $0.district, community: $0.community,
                        street: $0.street, postalCode: $0.postalCode)
                }, occupation: occupation, employer: employer, incomeBand: try incomeBand.map { try Input.convert($0) },
                hobbies: hobbies ?? [], maritalStatus: try maritalStatus.map { try Input.convert($0) }, children: children,
                fleetCategory: try fleetCategory.map { try Input.convert($0) },
                fleetAgreementEnds: try Input.date(fleetAgreementEnds, field: "fleet_agreement_ends"),
                preferredBrands: preferredBrands ?? [],
                preferences: PurchasePreferences(
                    colour: preferences?.colour, trim: preferences?.trim, decisionDays: preferences?.decisionDays),
                tags: tags ?? [], notes: notes)
        }
    }
}

extension Components.Schemas.ConsentState {
    init(_ state: ConsentState) throws {
        self.init(
            channel: try Input.convert(state.channel), status: try Input.convert(state.status),
            effectiveAt: state.effectiveAt, source: try Input.convert(state.source))
    }
}

extension Components.Schemas.ConsentEvent {
    init(_ event: ConsentEvent) throws {
        self.init(
            id: Output.id(event.id), customerId: Output.id(event.customerID), channel: try Input.convert(event.channel),
            status: try Input.convert(event.status), effectiveAt: event.effectiveAt, source: try Input.convert(event.source),
            note: event.note, actorKeyId: event.actorKeyID.map(Output.id), actorStaffId: event.actorStaffID.map(Output.id),
            recordedAt: event.recordedAt)
    }
}

extension Components.Schemas.AuditEvent {
    init(_ event: AuditEvent) throws {
        self.init(
            id: Output.id(event.id), entity: event.entity, entityId: Output.id(event.entityID),
            action: try Input.convert(event.action),
            changes: event.changes.map { .init(field: $0.field, old: $0.old, new: $0.new) },
            actorKeyId: event.actor.keyID.map(Output.id), actorStaffId: event.actor.staffID.map(Output.id),
            actorRole: try event.actor.role.map { try Input.convert($0) }, requestId: event.actor.requestID, at: event.at)
    }
}
