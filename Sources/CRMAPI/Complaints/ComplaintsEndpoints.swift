import CRMContract
import CRMDomain
import CRMServices
import Foundation
import OpenAPIRuntime

/// `/v1/complaints...`, `/v1/callbacks...`, `/v1/survey-question-sets`, the complaint and survey
/// integrity reports, and a customer's marketing status.
extension APIHandler {
    func listComplaints(_ input: Operations.ListComplaints.Input) async throws -> Operations.ListComplaints.Output {
        let query = input.query
        let filter = ComplaintFilter(
            status: try query.status.map { try Input.convert($0) }, open: query.open,
            severity: try query.severity.map { try Input.convert($0) }, category: try query.category.map { try Input.convert($0) },
            channel: try query.channel.map { try Input.convert($0) }, ownerID: try Input.id(query.ownerId, field: "owner_id"),
            customerID: try Input.id(query.customerId, field: "customer_id"),
            minimumEscalation: try query.escalated.map { try Self.level($0) }, overdue: query.overdue ?? false,
            createdAfter: query.createdAfter, createdBefore: query.createdBefore)
        let page = try await services.complaints.list(
            filter: filter, dealerFilter: try Input.id(query.dealerId, field: "dealer_id"),
            page: try await pageRequest(limit: query.limit, cursor: query.cursor), context: try context())
        return .ok(
            .init(body: .json(.init(data: try page.items.map(Components.Schemas.Complaint.init), nextCursor: try await nextCursor(page)))))
    }

    static func level(_ level: Components.Schemas.EscalationLevel) throws -> EscalationLevel {
        guard let converted = EscalationLevel(name: level.rawValue) else {
            throw Input.EnumMismatch(value: level.rawValue, type: "EscalationLevel")
        }
        return converted
    }

    func createComplaint(_ input: Operations.CreateComplaint.Input) async throws -> Operations.CreateComplaint.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let view = try await services.complaints.create(
            try body.fields, ownerID: try Input.id(body.ownerId, field: "owner_id"), note: body.note,
            dealerID: try Input.id(body.dealerId, field: "dealer_id"), context: try context())
        Output.etag(view.complaint.version)
        Output.location("/v1/complaints/\(Output.id(view.complaint.id))")
        return .created(.init(body: .json(try .init(view))))
    }

    func getComplaint(_ input: Operations.GetComplaint.Input) async throws -> Operations.GetComplaint.Output {
        let view = try await services.complaints.get(try Input.pathID(input.path.complaintId, "complaint"), context: try context())
        return .ok(.init(body: .json(try Self.rendered(view))))
    }

    func updateComplaint(_ input: Operations.UpdateComplaint.Input) async throws -> Operations.UpdateComplaint.Output {
        let context = try context()
        let id = try Input.pathID(input.path.complaintId, "complaint")
        let expected = try Input.expectedVersion(input.headers.ifMatch)
        let current = try await services.complaints.get(id, context: context).complaint
        let merged = try MergePatch.merge(body: RequestScope.now.body, into: try Components.Schemas.ComplaintInput(current.fields))
        let view = try await services.complaints.update(
            id, expectedVersion: expected ?? current.version, fields: try merged.fields, context: context)
        return .ok(.init(body: .json(try Self.rendered(view))))
    }

    func moveComplaint(_ input: Operations.MoveComplaint.Input) async throws -> Operations.MoveComplaint.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let view = try await services.complaints.move(
            try Input.pathID(input.path.complaintId, "complaint"), to: try Input.convert(body.status), note: body.note,
            expectedVersion: try Input.expectedVersion(input.headers.ifMatch), context: try context())
        return .ok(.init(body: .json(try Self.rendered(view))))
    }

    func resolveComplaint(_ input: Operations.ResolveComplaint.Input) async throws -> Operations.ResolveComplaint.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let resolution = ComplaintResolution(
            rootCause: body.rootCause, remedy: try Input.convert(body.remedy),
            cost: body.cost.map { Money(amountMinor: $0.amount, currency: $0.currency) }, customerAccepted: body.customerAccepted,
            note: body.note)
        let view = try await services.complaints.resolve(
            try Input.pathID(input.path.complaintId, "complaint"), resolution: resolution,
            expectedVersion: try Input.expectedVersion(input.headers.ifMatch), context: try context())
        return .ok(.init(body: .json(try Self.rendered(view))))
    }

    func assignComplaint(_ input: Operations.AssignComplaint.Input) async throws -> Operations.AssignComplaint.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let view = try await services.complaints.assign(
            try Input.pathID(input.path.complaintId, "complaint"), to: try Input.id(body.ownerId, field: "owner_id"),
            expectedVersion: try Input.expectedVersion(input.headers.ifMatch), context: try context())
        return .ok(.init(body: .json(try Self.rendered(view))))
    }

    func listComplaintTimeline(_ input: Operations.ListComplaintTimeline.Input) async throws -> Operations.ListComplaintTimeline.Output {
        let page = try await services.complaints.timeline(
            try Input.pathID(input.path.complaintId, "complaint"),
            page: try await pageRequest(limit: input.query.limit, cursor: input.query.cursor), context: try context())
        return .ok(
            .init(
                body: .json(.init(data: try page.items.map(Components.Schemas.ComplaintEvent.init), nextCursor: try await nextCursor(page)))
            ))
    }

    func addComplaintNote(_ input: Operations.AddComplaintNote.Input) async throws -> Operations.AddComplaintNote.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let (entry, view) = try await services.complaints.note(
            try Input.pathID(input.path.complaintId, "complaint"), kind: try Input.convert(body.kind), text: body.note,
            context: try context())
        Output.etag(view.complaint.version)
        return .created(.init(body: .json(.init(entry: try .init(entry), complaint: try .init(view)))))
    }

    /// The complaint of a response, with its ETag set.
    static func rendered(_ view: ComplaintView) throws -> Components.Schemas.Complaint {
        Output.etag(view.complaint.version)
        return try .init(view)
    }

    // MARK: Callbacks

    func listCallbacks(_ input: Operations.ListCallbacks.Input) async throws -> Operations.ListCallbacks.Output {
        let query = input.query
        let filter = CallbackFilter(
            status: try query.status.map { try Input.convert($0) }, purpose: try query.purpose.map { try Input.convert($0) },
            assigneeID: try Input.id(query.assigneeId, field: "assignee_id"),
            complaintID: try Input.id(query.complaintId, field: "complaint_id"), due: query.due ?? false,
            overdue: query.overdue ?? false)
        let page = try await services.callbacks.list(
            filter: filter, dealerFilter: try Input.id(query.dealerId, field: "dealer_id"),
            page: try await pageRequest(limit: query.limit, cursor: query.cursor), context: try context())
        return .ok(
            .init(body: .json(.init(data: try page.items.map(Components.Schemas.Callback.init), nextCursor: try await nextCursor(page)))))
    }

    func getCallback(_ input: Operations.GetCallback.Input) async throws -> Operations.GetCallback.Output {
        let detail = try await services.callbacks.get(try Input.pathID(input.path.callbackId, "callback"), context: try context())
        return .ok(.init(body: .json(try Self.rendered(detail))))
    }

    func assignCallback(_ input: Operations.AssignCallback.Input) async throws -> Operations.AssignCallback.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let detail = try await services.callbacks.assign(
            try Input.pathID(input.path.callbackId, "callback"), to: try Input.id(body.assigneeId, field: "assignee_id"),
            expectedVersion: try Input.expectedVersion(input.headers.ifMatch), context: try context())
        return .ok(.init(body: .json(try Self.rendered(detail))))
    }

    func recordCallbackAttempt(_ input: Operations.RecordCallbackAttempt.Input) async throws -> Operations.RecordCallbackAttempt.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        var survey: CallbackService.SurveyInput?
        if let answers = body.survey {
            var scores: [String: Int] = [:]
            for (index, score) in answers.scores.enumerated() {
                guard scores.updateValue(score.score, forKey: score.questionId) == nil else {
                    throw Problem.unprocessable(field: "survey.scores[\(index)].question_id", "is answered twice")
                }
            }
            survey = .init(scores: scores, nps: answers.nps, comments: answers.comments)
        }
        let detail = try await services.callbacks.recordAttempt(
            try Input.pathID(input.path.callbackId, "callback"),
            .init(
                outcome: try Input.convert(body.outcome), numberCalled: body.numberCalled, startedAt: body.startedAt,
                endedAt: body.endedAt, callerID: try Input.id(body.callerId, field: "caller_id"), notes: body.notes, survey: survey),
            context: try context())
        Output.etag(detail.callback.version)
        return .created(.init(body: .json(try .init(detail))))
    }

    /// The callback of a response, with its ETag set.
    static func rendered(_ detail: CallbackDetail) throws -> Components.Schemas.CallbackDetail {
        Output.etag(detail.callback.version)
        return try .init(detail)
    }

    // MARK: Survey question sets

    func listSurveyQuestionSets(_ input: Operations.ListSurveyQuestionSets.Input) async throws
        -> Operations.ListSurveyQuestionSets.Output
    {
        let sets = try await services.callbacks.questionSets(
            dealerFilter: try Input.id(input.query.dealerId, field: "dealer_id"), context: try context())
        return .ok(.init(body: .json(.init(data: try sets.map(Components.Schemas.SurveyQuestionSet.init)))))
    }

    func createSurveyQuestionSet(_ input: Operations.CreateSurveyQuestionSet.Input) async throws
        -> Operations.CreateSurveyQuestionSet.Output
    {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let set = try await services.callbacks.defineQuestionSet(
            purpose: try Input.convert(body.purpose), name: body.name,
            questions: body.questions.map { SurveyQuestionSet.Question(id: $0.id, text: $0.text) },
            dealerID: try Input.id(body.dealerId, field: "dealer_id"), context: try context())
        return .created(.init(body: .json(try .init(set))))
    }

    // MARK: Reports

    func getComplaintReport(_ input: Operations.GetComplaintReport.Input) async throws -> Operations.GetComplaintReport.Output {
        let query = input.query
        let (from, to) = try Self.period(from: query.from, to: query.to)
        let grouping = try query.groupBy.map { try Input.convert($0, to: ComplaintReportGrouping.self) } ?? .category
        let report = try await services.complaints.report(
            from: from, to: to, grouping: grouping, dealerFilter: try Input.id(query.dealerId, field: "dealer_id"),
            context: try context())
        return .ok(
            .init(
                body: .json(
                    .init(
                        from: from.description, to: to.description, groupBy: try Input.convert(grouping),
                        rows: report.rows.map(Components.Schemas.ComplaintReportRow.init), totals: .init(report.totals)))))
    }

    func getSurveyIntegrityReport(_ input: Operations.GetSurveyIntegrityReport.Input) async throws
        -> Operations.GetSurveyIntegrityReport.Output
    {
        let query = input.query
        let (from, to) = try Self.period(from: query.from, to: query.to)
        let report = try await services.callbacks.integrity(
            from: from, to: to, dealerFilter: try Input.id(query.dealerId, field: "dealer_id"), limit: query.limit ?? 50,
            context: try context())
        return .ok(
            .init(
                body: .json(
                    .init(
                        from: from.description, to: to.description,
                        flagged: try report.flagged.map {
                            .init(
                                surveyId: Output.id($0.surveyID), dealerId: Output.id($0.dealerID), callbackId: Output.id($0.callbackID),
                                customerId: Output.id($0.customerID), callerId: $0.callerID.map(Output.id),
                                purpose: try Input.convert($0.purpose), recordedAt: $0.recordedAt,
                                flags: try $0.flags.map(Components.Schemas.SurveyFlag.init))
                        },
                        totalFlagged: report.totalFlagged,
                        rates: report.rates.map {
                            .init(
                                dealerId: Output.id($0.dealerID), callerId: $0.callerID.map(Output.id), surveys: $0.surveys,
                                flagged: $0.flagged, flaggedRate: $0.flaggedRate, topScores: $0.topScores, topScoreRate: $0.topScoreRate)
                        }))))
    }

    /// A report's period from its required `from` and `to` dates.
    static func period(from: String, to: String) throws -> (LocalDate, LocalDate) {
        guard let from = try Input.date(from, field: "from") else { throw Problem.unprocessable(field: "from", "is required") }
        guard let to = try Input.date(to, field: "to") else { throw Problem.unprocessable(field: "to", "is required") }
        return (from, to)
    }

    // MARK: Marketing status

    func getCustomerMarketingStatus(_ input: Operations.GetCustomerMarketingStatus.Input) async throws
        -> Operations.GetCustomerMarketingStatus.Output
    {
        let id = try Input.pathID(input.path.customerId, "customer")
        let reasons = try await services.suppression.reasons(customerID: id, context: try context())
        return .ok(
            .init(
                body: .json(
                    .init(
                        customerId: Output.id(id), mayMarket: reasons.isEmpty,
                        reasons: try reasons.map { .init(code: try Input.convert($0.code), detail: $0.detail) }))))
    }
}
