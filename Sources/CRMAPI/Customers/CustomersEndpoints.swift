import CRMContract
import CRMDomain
import CRMServices
import Foundation
import OpenAPIRuntime

/// `/v1/customers...`: customers, consent, audit trail, erasure, the 360 view.
extension APIHandler {
    func listCustomers(_ input: Operations.ListCustomers.Input) async throws -> Operations.ListCustomers.Output {
        let query = input.query
        let page = try await services.customers.list(
            filter: CustomerFilter(
                phone: query.phone, namePrefix: query.name, plate: query.plate, vin: query.vin, tag: query.tag,
                kind: try query.kind.map { try Input.convert($0) }),
            dealerFilter: try Input.id(query.dealerId, field: "dealer_id"),
            page: try await pageRequest(limit: query.limit, cursor: query.cursor), context: try context())
        return .ok(
            .init(body: .json(.init(data: try page.items.map(Components.Schemas.Customer.init), nextCursor: try await nextCursor(page)))))
    }

    func createCustomer(_ input: Operations.CreateCustomer.Input) async throws -> Operations.CreateCustomer.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let consents = try (body.consents ?? []).map {
            CustomerService.InitialConsent(
                channel: try Input.convert($0.channel), status: try Input.convert($0.status), source: try Input.convert($0.source))
        }
        let customer = try await services.customers.create(
            try body.fields, dealerID: try Input.id(body.dealerId, field: "dealer_id"), consents: consents,
            context: try context())
        Output.etag(customer.version)
        Output.location("/v1/customers/\(Output.id(customer.id))")
        return .created(.init(body: .json(try .init(customer))))
    }

    func getCustomer(_ input: Operations.GetCustomer.Input) async throws -> Operations.GetCustomer.Output {
        let customer = try await services.customers.get(
            try Input.pathID(input.path.customerId, "customer"), context: try context())
        Output.etag(customer.version)
        return .ok(.init(body: .json(try .init(customer))))
    }

    /// JSON merge patch on the writable fields; `If-Match` must name the current version.
    func updateCustomer(_ input: Operations.UpdateCustomer.Input) async throws -> Operations.UpdateCustomer.Output {
        let context = try context()
        let id = try Input.pathID(input.path.customerId, "customer")
        let expected = try Input.expectedVersion(input.headers.ifMatch)
        let current = try await services.customers.get(id, context: context)
        let merged = try MergePatch.merge(body: RequestScope.now.body, into: try Components.Schemas.CustomerInput(current.fields))
        let updated = try await services.customers.update(
            id, expectedVersion: expected ?? current.version, fields: try merged.fields, context: context)
        Output.etag(updated.version)
        return .ok(.init(body: .json(try .init(updated))))
    }

    func deleteCustomer(_ input: Operations.DeleteCustomer.Input) async throws -> Operations.DeleteCustomer.Output {
        let context = try context()
        let id = try Input.pathID(input.path.customerId, "customer")
        let expected: Int
        if let version = try Input.expectedVersion(input.headers.ifMatch) {
            expected = version
        } else {
            expected = try await services.customers.get(id, context: context).version
        }
        try await services.customers.delete(id, expectedVersion: expected, context: context)
        return .noContent(.init())
    }

    func getCustomer360(_ input: Operations.GetCustomer360.Input) async throws -> Operations.GetCustomer360.Output {
        let view = try await services.customer360.view(
            try Input.pathID(input.path.customerId, "customer"), context: try context())
        return .ok(
            .init(
                body: .json(
                    .init(
                        customer: try .init(view.customer), consents: try view.consents.map(Components.Schemas.ConsentState.init),
                        vehicles: try view.vehicles.map { owned in
                            .init(
                                vehicle: try .init(owned.vehicle), ownedFrom: owned.ownership.ownedFrom.description,
                                latestOdometer: try owned.latestReading.map(Components.Schemas.OdometerReading.init))
                        },
                        sections: try Customer360Sections.render(view.sections)))))
    }

    func listCustomerAudit(_ input: Operations.ListCustomerAudit.Input) async throws -> Operations.ListCustomerAudit.Output {
        let page = try await services.customers.auditTrail(
            customerID: try Input.pathID(input.path.customerId, "customer"),
            page: try await pageRequest(limit: input.query.limit, cursor: input.query.cursor), context: try context())
        return .ok(
            .init(
                body: .json(
                    .init(data: try page.items.map(Components.Schemas.AuditEvent.init), nextCursor: try await nextCursor(page)))))
    }

    func eraseCustomer(_ input: Operations.EraseCustomer.Input) async throws -> Operations.EraseCustomer.Output {
        let customer = try await services.customers.erase(
            try Input.pathID(input.path.customerId, "customer"), context: try context())
        Output.etag(customer.version)
        return .ok(.init(body: .json(try .init(customer))))
    }

    func listConsents(_ input: Operations.ListConsents.Input) async throws -> Operations.ListConsents.Output {
        let states = try await services.customers.consents(
            customerID: try Input.pathID(input.path.customerId, "customer"), context: try context())
        return .ok(.init(body: .json(.init(data: try states.map(Components.Schemas.ConsentState.init)))))
    }

    func changeConsent(_ input: Operations.ChangeConsent.Input) async throws -> Operations.ChangeConsent.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let event = try await services.customers.changeConsent(
            customerID: try Input.pathID(input.path.customerId, "customer"),
            .init(
                channel: try Input.convert(body.channel), status: try Input.convert(body.status),
                source: try Input.convert(body.source), effectiveAt: body.effectiveAt, note: body.note),
            context: try context())
        return .created(.init(body: .json(try .init(event))))
    }

    func listConsentHistory(_ input: Operations.ListConsentHistory.Input) async throws
        -> Operations.ListConsentHistory.Output
    {
        let page = try await services.customers.consentHistory(
            customerID: try Input.pathID(input.path.customerId, "customer"),
            page: try await pageRequest(limit: input.query.limit, cursor: input.query.cursor), context: try context())
        return .ok(
            .init(
                body: .json(
                    .init(data: try page.items.map(Components.Schemas.ConsentEvent.init), nextCursor: try await nextCursor(page)))))
    }
}

/// Renders the sections other domains contribute to the 360 view: one case per domain, an
/// exhaustive switch (a new section that is not rendered does not compile).
enum Customer360Sections {
    static func render(_ sections: [Customer360Section]) throws -> Components.Schemas.Customer360Sections {
        var rendered = Components.Schemas.Customer360Sections()
        for section in sections {
            switch section {
            case .leads(let views): rendered.leads = try views.map(Components.Schemas.Lead.init)
            case .complaints(let views): rendered.complaints = try views.map(Components.Schemas.Complaint.init)
            case .service(let visits, let reminders):
                rendered.serviceVisits = try visits.map { try Components.Schemas.ServiceVisit($0) }
                rendered.reminders = try reminders?.map(Components.Schemas.Reminder.init)
            }
        }
        return rendered
    }
}
