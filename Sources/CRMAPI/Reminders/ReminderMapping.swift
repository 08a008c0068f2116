import CRMContract
import CRMDomain
import CRMServices
import Foundation

extension Components.Schemas.ServiceVisit {
    init(_ visit: ServiceVisit, odometerNote: String? = nil) throws {
        let f = visit.fields
        self.init(
            id: Output.id(visit.id), dealerId: Output.id(visit.dealerID), vehicleId: Output.id(f.vehicleID),
            customerId: Output.id(visit.customerID), repairOrderNumber: f.repairOrderNumber, _type: try Input.convert(f.type),
            openedAt: f.openedAt, closedAt: f.closedAt, odometerKm: f.odometerKm,
            lineItems: f.lineItems.map {
                .init(code: $0.code, description: $0.description, labourMinor: $0.labourMinor, partsMinor: $0.partsMinor)
            },
            totalMinor: f.totalMinor, currency: f.currency, advisorId: f.advisorID.map(Output.id), notes: f.notes,
            odometerNote: odometerNote, createdAt: visit.createdAt, updatedAt: visit.updatedAt, version: visit.version)
    }
}

/// The writable fields of a visit as the contract spells them (the create body, and the merge
/// target of a PATCH).
struct ServiceVisitWritable: Codable {
    var vehicleId: String
    var customerId: String?
    var repairOrderNumber: String
    var type: String
    var openedAt: Date
    var closedAt: Date?
    var odometerKm: Int?
    var lineItems: [ServiceLineItem]?
    var currency: String?
    var advisorId: String?
    var notes: String?

    enum CodingKeys: String, CodingKey {
        case vehicleId = "vehicle_id"
        case customerId = "customer_id"
        case repairOrderNumber = "repair_order_number"
        case type
        case openedAt = "opened_at"
        case closedAt = "closed_at"
        case odometerKm = "odometer_km"
        case lineItems = "line_items"
        case currency
        case advisorId = "advisor_id"
        case notes
    }

    init(_ visit: ServiceVisit) {
        let f = visit.fields
        vehicleId = Output.id(f.vehicleID)
        customerId = Output.id(visit.customerID)
        repairOrderNumber = f.repairOrderNumber
        type = f.type.rawValue
        openedAt = f.openedAt
        closedAt = f.closedAt
        odometerKm = f.odometerKm
        lineItems = f.lineItems
        currency = f.currency
        advisorId = f.advisorID.map(Output.id)
        notes = f.notes
    }

    init(_ input: Components.Schemas.ServiceVisitInput) {
        vehicleId = input.vehicleId
        customerId = input.customerId
        repairOrderNumber = input.repairOrderNumber
        type = input._type.rawValue
        openedAt = input.openedAt
        closedAt = input.closedAt
        odometerKm = input.odometerKm
        lineItems = input.lineItems?.map {
            ServiceLineItem(code: $0.code, description: $0.description, labourMinor: $0.labourMinor, partsMinor: $0.partsMinor)
        }
        currency = input.currency
        advisorId = input.advisorId
        notes = input.notes
    }

    var fields: ServiceVisitFields {
        get throws {
            guard let type = ServiceVisitType(rawValue: type) else { throw Problem.unprocessable(field: "type", "is not one of the allowed values") }
            return ServiceVisitFields(
                vehicleID: try Input.id(vehicleId, field: "vehicle_id"), customerID: try Input.id(customerId, field: "customer_id"),
                repairOrderNumber: repairOrderNumber, type: type, openedAt: openedAt, closedAt: closedAt, odometerKm: odometerKm,
                lineItems: lineItems ?? [], currency: currency ?? "CNY", advisorID: try Input.id(advisorId, field: "advisor_id"),
                notes: notes)
        }
    }
}

extension Components.Schemas.MaintenanceSchedule {
    init(_ schedule: MaintenanceSchedule) {
        self.init(
            id: Output.id(schedule.id), dealerId: Output.id(schedule.dealerID), brand: schedule.brand, series: schedule.series,
            firstKm: schedule.firstKm, firstMonths: schedule.firstMonths, intervalKm: schedule.intervalKm,
            intervalMonths: schedule.intervalMonths, updatedAt: schedule.updatedAt)
    }
}

extension Components.Schemas.ServiceForecast {
    init(_ view: ForecastView) throws {
        let f = view.forecast
        self.init(
            vehicleId: Output.id(view.vehicleID), today: view.today.description, step: try Input.convert(f.step),
            used: f.used.map { .init(readOn: $0.readOn.description, km: $0.km) },
            ignored: try f.ignored.map { .init(readOn: $0.reading.readOn.description, km: $0.reading.km, ignoredBecause: try Input.convert($0.reason)) },
            kmPerDay: f.kmPerDay, rateSource: try Input.convert(f.rateSource), baseDate: f.baseDate?.description, baseKm: f.baseKm,
            dueKm: f.dueKm, dueByTime: f.dueByTime?.description, dueByMileage: f.dueByMileage?.description,
            dueDate: f.dueDate?.description, basis: try f.basis.map { try Input.convert($0) }, forecastKmToday: f.forecastKmToday,
            readingsUsed: f.readingsUsed, newestReadingAgeDays: f.newestReadingAgeDays, confidence: try Input.convert(f.confidence),
            schedule: .init(view.schedule))
    }
}

extension Components.Schemas.MarketingSuppressionReason {
    init(_ reason: SuppressionReason) throws {
        self.init(code: try Input.convert(reason.code), detail: reason.detail)
    }
}

extension Components.Schemas.Reminder {
    init(_ r: Reminder) throws {
        let d = r.data
        self.init(
            id: Output.id(r.id), dealerId: Output.id(r.dealerID), customerId: Output.id(r.customerID), vehicleId: r.vehicleID.map(Output.id),
            kind: try Input.convert(r.kind), dueDate: r.dueDate.description, touch: r.touch, sendDate: r.sendDate.description,
            channel: try r.channel.map { try Input.convert($0) }, status: try Input.convert(r.status),
            reason: try r.reason.map(Components.Schemas.MarketingSuppressionReason.init),
            data: .init(
                customerName: d["customer_name"], plate: d["plate"], brand: d["brand"], series: d["series"], dueDate: d["due_date"],
                dueKm: d["due_km"], forecastKm: d["forecast_km"], kmSinceLastVisit: d["km_since_last_visit"], lastSeen: d["last_seen"]),
            advisorId: r.advisorID.map(Output.id), callTaskId: r.callTaskID.map(Output.id),
            respondedVisitId: r.respondedVisitID.map(Output.id), queuedAt: r.queuedAt, createdAt: r.createdAt, updatedAt: r.updatedAt)
    }
}

extension Components.Schemas.CallTask {
    init(_ t: CallTask) throws {
        self.init(
            id: Output.id(t.id), dealerId: Output.id(t.dealerID), reminderId: Output.id(t.reminderID), customerId: Output.id(t.customerID),
            vehicleId: t.vehicleID.map(Output.id), kind: try Input.convert(t.kind), advisorId: t.advisorID.map(Output.id),
            dueDate: t.dueDate.description, status: try Input.convert(t.status), outcome: try t.outcome.map { try Input.convert($0) },
            bookedDate: t.bookedDate?.description, attempts: t.attempts, notes: t.notes, visitId: t.visitID.map(Output.id),
            createdAt: t.createdAt, updatedAt: t.updatedAt, version: t.version)
    }
}

extension Components.Schemas.ReminderReportRow {
    init(_ c: ReminderReportCounts) throws {
        self.init(
            key: c.key, reminded: c.reminded, returned: c.returned, returnRate: c.returnRate, booked: c.booked, heldBack: c.heldBack,
            heldBackReturned: c.heldBackReturned, controlReturnRate: c.controlReturnRate, lift: c.lift,
            suppressed: try SuppressionReason.Code.allCases.compactMap { code in
                try c.suppressed[code].map { .init(reason: try Input.convert(code), count: $0) }
            })
    }
}

extension Components.Schemas.ReminderRunSummary {
    init(_ s: ReminderService.RunSummary) {
        self.init(
            forecastsRefreshed: s.forecastsRefreshed, candidates: s.candidates, created: s.created, suppressed: s.suppressed,
            heldBack: s.heldBack, expired: s.expired, queued: s.queued, callTasks: s.callTasks)
    }
}

extension Components.Schemas.ReminderPolicy {
    /// The dealer's policy as the contract spells it (the domain type's own JSON form).
    init(_ policy: ReminderPolicy) throws {
        self = try JSONDecoder().decode(Self.self, from: JSONEncoder().encode(policy))
    }
}

extension ReminderPolicy {
    /// A policy from the contract's form: members it leaves out keep their defaults.
    init(_ input: Components.Schemas.ReminderPolicy) throws {
        self = try JSONDecoder().decode(Self.self, from: JSONEncoder().encode(input))
    }
}
