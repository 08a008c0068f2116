import CRMContract
import CRMDomain
import CRMServices
import Foundation
import OpenAPIRuntime

/// `/v1/service-visits...`, `/v1/maintenance-schedules...`, a vehicle's service forecast,
/// `/v1/reminders...`, `/v1/call-tasks...` and the return-rate report.
extension APIHandler {
    // MARK: Service visits

    func listServiceVisits(_ input: Operations.ListServiceVisits.Input) async throws -> Operations.ListServiceVisits.Output {
        let query = input.query
        let filter = ServiceVisitFilter(
            vehicleID: try Input.id(query.vehicleId, field: "vehicle_id"), customerID: try Input.id(query.customerId, field: "customer_id"),
            advisorID: try Input.id(query.advisorId, field: "advisor_id"), type: try query._type.map { try Input.convert($0) },
            openedFrom: try Input.date(query.openedFrom, field: "opened_from"), openedTo: try Input.date(query.openedTo, field: "opened_to"),
            repairOrderNumber: query.repairOrderNumber)
        let page = try await services.serviceVisits.list(
            filter: filter, dealerFilter: try Input.id(query.dealerId, field: "dealer_id"),
            page: try await pageRequest(limit: query.limit, cursor: query.cursor), context: try context())
        return .ok(
            .init(body: .json(.init(data: try page.items.map { try .init($0) }, nextCursor: try await nextCursor(page)))))
    }

    func recordServiceVisit(_ input: Operations.RecordServiceVisit.Input) async throws -> Operations.RecordServiceVisit.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let recorded = try await services.serviceVisits.record(
            try ServiceVisitWritable(body).fields, dealerID: try Input.id(body.dealerId, field: "dealer_id"), context: try context())
        let rendered = try Components.Schemas.ServiceVisit(recorded.visit, odometerNote: recorded.odometerIgnored)
        Output.etag(recorded.visit.version)
        guard recorded.created else { return .ok(.init(body: .json(rendered))) }
        Output.location("/v1/service-visits/\(Output.id(recorded.visit.id))")
        return .created(.init(body: .json(rendered)))
    }

    func getServiceVisit(_ input: Operations.GetServiceVisit.Input) async throws -> Operations.GetServiceVisit.Output {
        let visit = try await services.serviceVisits.get(try Input.pathID(input.path.visitId, "service visit"), context: try context())
        Output.etag(visit.version)
        return .ok(.init(body: .json(try .init(visit))))
    }

    func updateServiceVisit(_ input: Operations.UpdateServiceVisit.Input) async throws -> Operations.UpdateServiceVisit.Output {
        let context = try context()
        let id = try Input.pathID(input.path.visitId, "service visit")
        let expected = try Input.expectedVersion(input.headers.ifMatch)
        let current = try await services.serviceVisits.get(id, context: context)
        let merged = try MergePatch.merge(body: RequestScope.now.body, into: ServiceVisitWritable(current))
        let recorded = try await services.serviceVisits.update(
            id, expectedVersion: expected ?? current.version, fields: try merged.fields, context: context)
        Output.etag(recorded.visit.version)
        return .ok(.init(body: .json(try .init(recorded.visit, odometerNote: recorded.odometerIgnored))))
    }

    // MARK: Schedules and forecasts

    func listMaintenanceSchedules(_ input: Operations.ListMaintenanceSchedules.Input) async throws
        -> Operations.ListMaintenanceSchedules.Output
    {
        let schedules = try await services.serviceVisits.schedules(
            dealerFilter: try Input.id(input.query.dealerId, field: "dealer_id"), context: try context())
        return .ok(.init(body: .json(.init(data: schedules.map(Components.Schemas.MaintenanceSchedule.init)))))
    }

    func putMaintenanceSchedule(_ input: Operations.PutMaintenanceSchedule.Input) async throws -> Operations.PutMaintenanceSchedule.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let schedule = try await services.serviceVisits.putSchedule(
            brand: body.brand, series: body.series, firstKm: body.firstKm, firstMonths: body.firstMonths, intervalKm: body.intervalKm,
            intervalMonths: body.intervalMonths, dealerID: try Input.id(body.dealerId, field: "dealer_id"), context: try context())
        return .ok(.init(body: .json(.init(schedule))))
    }

    func deleteMaintenanceSchedule(_ input: Operations.DeleteMaintenanceSchedule.Input) async throws
        -> Operations.DeleteMaintenanceSchedule.Output
    {
        try await services.serviceVisits.deleteSchedule(
            try Input.pathID(input.path.scheduleId, "maintenance schedule"), context: try context())
        return .noContent(.init())
    }

    func getServiceForecast(_ input: Operations.GetServiceForecast.Input) async throws -> Operations.GetServiceForecast.Output {
        let view = try await services.reminders.forecast(vehicleID: try Input.pathID(input.path.vehicleId, "vehicle"), context: try context())
        return .ok(.init(body: .json(try .init(view))))
    }

    // MARK: Reminders

    func listReminders(_ input: Operations.ListReminders.Input) async throws -> Operations.ListReminders.Output {
        let query = input.query
        let filter = ReminderFilter(
            kind: try query.kind.map { try Input.convert($0) }, status: try query.status.map { try Input.convert($0) },
            reason: try query.reason.map { try Input.convert($0) }, customerID: try Input.id(query.customerId, field: "customer_id"),
            vehicleID: try Input.id(query.vehicleId, field: "vehicle_id"), dueFrom: try Input.date(query.dueFrom, field: "due_from"),
            dueTo: try Input.date(query.dueTo, field: "due_to"))
        let page = try await services.reminders.list(
            filter: filter, dealerFilter: try Input.id(query.dealerId, field: "dealer_id"),
            page: try await pageRequest(limit: query.limit, cursor: query.cursor), context: try context())
        return .ok(.init(body: .json(.init(data: try page.items.map { try .init($0) }, nextCursor: try await nextCursor(page)))))
    }

    func getReminder(_ input: Operations.GetReminder.Input) async throws -> Operations.GetReminder.Output {
        let reminder = try await services.reminders.get(try Input.pathID(input.path.reminderId, "reminder"), context: try context())
        return .ok(.init(body: .json(try .init(reminder))))
    }

    func runReminderScan(_ input: Operations.RunReminderScan.Input) async throws -> Operations.RunReminderScan.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let summary = try await services.reminders.runNow(dealerID: try Input.id(body.dealerId, field: "dealer_id"), context: try context())
        return .ok(.init(body: .json(.init(summary))))
    }

    func getReminderReport(_ input: Operations.GetReminderReport.Input) async throws -> Operations.GetReminderReport.Output {
        let query = input.query
        let (from, to) = try Self.period(from: query.from, to: query.to)
        let grouping = try query.groupBy.map { try Input.convert($0, to: ReminderReportGrouping.self) } ?? .kind
        let report = try await services.reminders.report(
            from: from, to: to, grouping: grouping, dealerFilter: try Input.id(query.dealerId, field: "dealer_id"), context: try context())
        return .ok(
            .init(
                body: .json(
                    .init(
                        from: from.description, to: to.description, groupBy: try Input.convert(grouping),
                        rows: try report.rows.map { try .init($0) }, totals: try .init(report.totals)))))
    }

    // MARK: Call tasks

    func listCallTasks(_ input: Operations.ListCallTasks.Input) async throws -> Operations.ListCallTasks.Output {
        let query = input.query
        let filter = CallTaskFilter(
            advisorID: try Input.id(query.advisorId, field: "advisor_id"), pool: query.pool ?? false,
            status: try query.status.map { try Input.convert($0) }, due: query.due ?? false)
        let page = try await services.callTasks.list(
            filter: filter, dealerFilter: try Input.id(query.dealerId, field: "dealer_id"),
            page: try await pageRequest(limit: query.limit, cursor: query.cursor), context: try context())
        return .ok(.init(body: .json(.init(data: try page.items.map { try .init($0) }, nextCursor: try await nextCursor(page)))))
    }

    func getCallTask(_ input: Operations.GetCallTask.Input) async throws -> Operations.GetCallTask.Output {
        let task = try await services.callTasks.get(try Input.pathID(input.path.callTaskId, "call task"), context: try context())
        Output.etag(task.version)
        return .ok(.init(body: .json(try .init(task))))
    }

    func recordCallTaskOutcome(_ input: Operations.RecordCallTaskOutcome.Input) async throws -> Operations.RecordCallTaskOutcome.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let task = try await services.callTasks.record(
            try Input.pathID(input.path.callTaskId, "call task"), outcome: try Input.convert(body.outcome),
            bookedDate: try Input.date(body.bookedDate, field: "booked_date"), notes: body.notes,
            expectedVersion: try Input.expectedVersion(input.headers.ifMatch), context: try context())
        Output.etag(task.version)
        return .ok(.init(body: .json(try .init(task))))
    }

    func assignCallTask(_ input: Operations.AssignCallTask.Input) async throws -> Operations.AssignCallTask.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let task = try await services.callTasks.assign(
            try Input.pathID(input.path.callTaskId, "call task"), to: try Input.id(body.advisorId, field: "advisor_id"),
            expectedVersion: try Input.expectedVersion(input.headers.ifMatch), context: try context())
        Output.etag(task.version)
        return .ok(.init(body: .json(try .init(task))))
    }
}
