import CRMContract
import CRMDomain
import CRMServices
import Foundation
import OpenAPIRuntime

/// `/v1/leads...` and `/v1/reports/leads`.
extension APIHandler {
    func listLeads(_ input: Operations.ListLeads.Input) async throws -> Operations.ListLeads.Output {
        let query = input.query
        let filter = LeadFilter(
            status: try query.status.map { try Input.convert($0) }, channel: try query.channel.map { try Input.convert($0) },
            consultantID: try Input.id(query.consultantId, field: "consultant_id"), pool: query.pool,
            temperature: try query.temperature.map { try Input.convert($0) }, qualified: query.qualified,
            overdue: query.overdue ?? false, phone: query.phone, interestSeries: query.interestSeries,
            customerID: try Input.id(query.customerId, field: "customer_id"), createdAfter: query.createdAfter,
            createdBefore: query.createdBefore)
        let page = try await services.leads.list(
            filter: filter, dealerFilter: try Input.id(query.dealerId, field: "dealer_id"),
            page: try await pageRequest(limit: query.limit, cursor: query.cursor), context: try context())
        return .ok(.init(body: .json(.init(data: try page.items.map(Components.Schemas.Lead.init), nextCursor: try await nextCursor(page)))))
    }

    func createLead(_ input: Operations.CreateLead.Input) async throws -> Operations.CreateLead.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let consents = try (body.consents ?? []).map {
            CustomerService.InitialConsent(
                channel: try Input.convert($0.channel), status: try Input.convert($0.status), source: try Input.convert($0.source))
        }
        let view = try await services.leads.create(
            try body.fields, consultantID: try Input.id(body.consultantId, field: "consultant_id"),
            consents: consents, dealerID: try Input.id(body.dealerId, field: "dealer_id"), context: try context())
        Output.etag(view.lead.version)
        Output.location("/v1/leads/\(Output.id(view.lead.id))")
        return .created(.init(body: .json(try .init(view))))
    }

    func getLead(_ input: Operations.GetLead.Input) async throws -> Operations.GetLead.Output {
        let view = try await services.leads.get(try Input.pathID(input.path.leadId, "lead"), context: try context())
        Output.etag(view.lead.version)
        return .ok(.init(body: .json(try .init(view))))
    }

    func updateLead(_ input: Operations.UpdateLead.Input) async throws -> Operations.UpdateLead.Output {
        let context = try context()
        let id = try Input.pathID(input.path.leadId, "lead")
        let expected = try Input.expectedVersion(input.headers.ifMatch)
        let current = try await services.leads.get(id, context: context).lead
        let merged = try MergePatch.merge(body: RequestScope.now.body, into: try Components.Schemas.LeadInput(current.fields))
        let view = try await services.leads.update(
            id, expectedVersion: expected ?? current.version, fields: try merged.fields, context: context)
        Output.etag(view.lead.version)
        return .ok(.init(body: .json(try .init(view))))
    }

    func listLeadFollowUps(_ input: Operations.ListLeadFollowUps.Input) async throws -> Operations.ListLeadFollowUps.Output {
        let page = try await services.leads.followUps(
            leadID: try Input.pathID(input.path.leadId, "lead"),
            page: try await pageRequest(limit: input.query.limit, cursor: input.query.cursor), context: try context())
        return .ok(
            .init(body: .json(.init(data: try page.items.map(Components.Schemas.FollowUp.init), nextCursor: try await nextCursor(page)))))
    }

    func createLeadFollowUp(_ input: Operations.CreateLeadFollowUp.Input) async throws -> Operations.CreateLeadFollowUp.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let (followUp, view) = try await services.leads.addFollowUp(
            try Input.pathID(input.path.leadId, "lead"),
            .init(
                contactedAt: body.contactedAt, channel: try Input.convert(body.channel), result: body.result, notes: body.notes,
                nextContactDate: try Input.date(body.nextContactDate, field: "next_contact_date"),
                nextContactAction: body.nextContactAction),
            context: try context())
        Output.etag(view.lead.version)
        return .created(.init(body: .json(.init(followUp: try .init(followUp), lead: try .init(view)))))
    }

    func listLeadAssignments(_ input: Operations.ListLeadAssignments.Input) async throws -> Operations.ListLeadAssignments.Output {
        let page = try await services.leads.assignments(
            leadID: try Input.pathID(input.path.leadId, "lead"),
            page: try await pageRequest(limit: input.query.limit, cursor: input.query.cursor), context: try context())
        return .ok(
            .init(
                body: .json(
                    .init(data: try page.items.map(Components.Schemas.LeadAssignmentRecord.init), nextCursor: try await nextCursor(page)))))
    }

    func assignLead(_ input: Operations.AssignLead.Input) async throws -> Operations.AssignLead.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let consultant = try Input.id(body.consultantId, field: "consultant_id")
        let target: LeadService.AssignmentTarget
        switch body.target {
        case .consultant:
            guard let consultant else { throw Problem.unprocessable(field: "consultant_id", "is required for target 'consultant'") }
            target = .consultant(consultant)
        case .roundRobin, .pool:
            if consultant != nil {
                throw Problem.unprocessable(field: "consultant_id", "is only for target 'consultant'")
            }
            target = body.target == .pool ? .pool : .roundRobin
        }
        let view = try await services.leads.assign(
            try Input.pathID(input.path.leadId, "lead"), to: target, expectedVersion: try Input.expectedVersion(input.headers.ifMatch),
            context: try context())
        return .ok(.init(body: .json(try Self.rendered(view))))
    }

    func claimLead(_ input: Operations.ClaimLead.Input) async throws -> Operations.ClaimLead.Output {
        let view = try await services.leads.claim(try Input.pathID(input.path.leadId, "lead"), context: try context())
        return .ok(.init(body: .json(try Self.rendered(view))))
    }

    func progressLead(_ input: Operations.ProgressLead.Input) async throws -> Operations.ProgressLead.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let view = try await services.leads.progress(
            try Input.pathID(input.path.leadId, "lead"), to: try Input.convert(body.status),
            expectedVersion: try Input.expectedVersion(input.headers.ifMatch), context: try context())
        return .ok(.init(body: .json(try Self.rendered(view))))
    }

    func declareLeadLoss(_ input: Operations.DeclareLeadLoss.Input) async throws -> Operations.DeclareLeadLoss.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let view = try await services.leads.declareLoss(
            try Input.pathID(input.path.leadId, "lead"),
            .init(reason: try Input.convert(body.reason), competitor: body.competitor, note: body.note),
            expectedVersion: try Input.expectedVersion(input.headers.ifMatch), context: try context())
        return .ok(.init(body: .json(try Self.rendered(view))))
    }

    func decideLeadLoss(_ input: Operations.DecideLeadLoss.Input) async throws -> Operations.DecideLeadLoss.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let view = try await services.leads.decideLoss(
            try Input.pathID(input.path.leadId, "lead"), decision: try Input.convert(body.decision), note: body.note,
            expectedVersion: try Input.expectedVersion(input.headers.ifMatch), context: try context())
        return .ok(.init(body: .json(try Self.rendered(view))))
    }

    func mergeLead(_ input: Operations.MergeLead.Input) async throws -> Operations.MergeLead.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let view = try await services.leads.merge(
            try Input.pathID(input.path.leadId, "lead"), duplicateID: try Input.id(body.duplicateId, field: "duplicate_id"),
            expectedVersion: try Input.expectedVersion(input.headers.ifMatch), context: try context())
        return .ok(.init(body: .json(try Self.rendered(view))))
    }

    func convertLead(_ input: Operations.ConvertLead.Input) async throws -> Operations.ConvertLead.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        guard let delivery = try Input.date(body.deliveryDate, field: "delivery_date") else {
            throw Problem.unprocessable(field: "delivery_date", "is required")
        }
        let v = body.vehicle
        let sale = LeadService.Sale(
            vehicle: VehicleFields(
                vin: v.vin, plate: v.plate, brand: v.brand, series: v.series, model: v.model, modelYear: v.modelYear,
                colour: v.colour, warrantyEnd: try Input.date(v.warrantyEnd, field: "vehicle.warranty_end")),
            priceMinor: body.price.amount, currency: body.price.currency, deliveryDate: delivery)
        let result = try await services.leads.convert(
            try Input.pathID(input.path.leadId, "lead"), sale: sale, expectedVersion: try Input.expectedVersion(input.headers.ifMatch),
            context: try context())
        Output.etag(result.lead.lead.version)
        return .ok(
            .init(
                body: .json(
                    .init(
                        lead: try .init(result.lead), customer: try .init(result.customer), vehicle: try .init(result.vehicle),
                        customerCreated: result.customerCreated, welcomePackJobId: result.welcomePackJobID,
                        callbacks: try result.callbacks.map(Components.Schemas.Callback.init)))))
    }

    func getLeadReport(_ input: Operations.GetLeadReport.Input) async throws -> Operations.GetLeadReport.Output {
        let query = input.query
        guard let from = try Input.date(query.from, field: "from") else { throw Problem.unprocessable(field: "from", "is required") }
        guard let to = try Input.date(query.to, field: "to") else { throw Problem.unprocessable(field: "to", "is required") }
        let grouping = try query.groupBy.map { try Input.convert($0, to: LeadReportGrouping.self) } ?? .channel
        let report = try await services.leads.report(
            from: from, to: to, grouping: grouping, dealerFilter: try Input.id(query.dealerId, field: "dealer_id"),
            context: try context())
        return .ok(
            .init(
                body: .json(
                    .init(
                        from: from.description, to: to.description, groupBy: try Input.convert(grouping),
                        rows: report.rows.map(Components.Schemas.LeadReportRow.init), totals: .init(report.totals),
                        competitors: report.competitors.map(Components.Schemas.LeadCompetitorShare.init)))))
    }

    /// The lead of a state change's response, with its ETag set.
    static func rendered(_ view: LeadView) throws -> Components.Schemas.Lead {
        Output.etag(view.lead.version)
        return try .init(view)
    }
}
