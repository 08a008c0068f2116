public import CRMDomain
import CRMStore
public import Foundation
import PostgresClient

/// Service visits (repair orders) and maintenance schedules.
public final class ServiceVisitService: Sendable {
    let kit: ServiceKit
    let callbacks: CallbackService
    let visits = ServiceVisitRepository()
    let vehicles = VehicleRepository()
    let customers = CustomerRepository()
    let staff = StaffRepository()
    let forecasts = ForecastRepository()

    init(_ kit: ServiceKit, callbacks: CallbackService) {
        self.kit = kit
        self.callbacks = callbacks
    }

    /// A visit as recorded, and whether this call created it (false: the DMS sent it again and it
    /// was updated).
    public struct Recorded: Sendable {
        public var visit: ServiceVisit
        public var created: Bool
        /// The odometer figure was not recorded as a reading: it does not fit the vehicle's history.
        public var odometerIgnored: String?
    }

    /// Records a visit, or updates the one with the same repair-order number (a DMS sending it
    /// again): its odometer figure becomes a reading when it fits the history, a recall-campaign
    /// visit closes the vehicle's open recall, it answers the reminders it comes after and links
    /// the booking that led to it, and closing it schedules the D+1 satisfaction callback.
    public func record(_ fields: ServiceVisitFields, dealerID: UUID?, context: CallContext) async throws -> Recorded {
        try await kit.useCases.create(.serviceVisitsWrite, dealer: dealerID, context: context) { step in
            let clean = try fields.validated(now: step.now)
            if let existing = try await visits.lock(repairOrderNumber: clean.repairOrderNumber, dealerID: step.dealer.id, in: step.tx) {
                return try await store(existing, fields: clean, in: step)
            }
            let customerID = try await checkLinks(clean, dealerID: step.dealer.id, in: step.tx)
            let visit = ServiceVisit(
                id: UUID(), dealerID: step.dealer.id, fields: clean, customerID: customerID, createdAt: step.now, updatedAt: step.now,
                version: 1)
            guard let inserted = try await visits.insert(visit, openedOn: step.dealer.today(at: clean.openedAt), in: step.tx) else {
                throw ServiceError.unavailable("Another request recorded this repair order at the same moment; retry.", retryAfter: 1)
            }
            let ignored = try await effects(of: inserted, previous: nil, in: step)
            return Recorded(visit: inserted, created: true, odometerIgnored: ignored)
        }
    }

    /// Changes a visit (by its id).
    public func update(_ id: UUID, expectedVersion: Int, fields: ServiceVisitFields, context: CallContext) async throws -> Recorded {
        try await kit.useCases.change(
            .serviceVisitsWrite, expectedVersion: expectedVersion, context: context, notFound: "No such service visit.",
            lock: { [visits] scope, tx in try await visits.lock(id: id, scope: scope, in: tx) }
        ) { current, step in
            let clean = try fields.validated(now: step.now)
            if clean.repairOrderNumber != current.fields.repairOrderNumber,
                try await visits.lock(repairOrderNumber: clean.repairOrderNumber, dealerID: current.dealerID, in: step.tx) != nil
            {
                throw ServiceError.conflict("Another visit of this dealer has this repair-order number.")
            }
            return try await store(current, fields: clean, in: step)
        }
    }

    private func store(_ current: ServiceVisit, fields: ServiceVisitFields, in step: UseCase) async throws -> Recorded {
        var changed = current
        changed.fields = fields
        changed.customerID = try await checkLinks(fields, dealerID: current.dealerID, in: step.tx)
        let saved = try await visits.save(changed, openedOn: step.dealer.today(at: fields.openedAt), now: step.now, in: step.tx)
        let ignored = try await effects(of: saved, previous: current, in: step)
        return Recorded(visit: saved, created: false, odometerIgnored: ignored)
    }

    /// The vehicle must be the dealer's, the customer (default: its current owner) and the
    /// advisor too. Returns the customer.
    func checkLinks(_ fields: ServiceVisitFields, dealerID: UUID, in tx: PostgresTransaction) async throws -> UUID {
        var errors = ValidationErrors()
        var customerID = fields.customerID
        if try await vehicles.find(id: fields.vehicleID, scope: .dealer(dealerID), in: tx) == nil {
            errors.add("vehicle_id", "is not a vehicle of this dealer")
        } else if customerID == nil {
            customerID = try await vehicles.ownerships(vehicleID: fields.vehicleID, dealerID: dealerID, in: tx).first {
                $0.ownedTo == nil
            }?.customerID
            if customerID == nil { errors.add("customer_id", "is required: the vehicle has no current owner") }
        }
        if let customer = fields.customerID, try await customers.find(id: customer, scope: .dealer(dealerID), in: tx) == nil {
            errors.add("customer_id", "is not a customer of this dealer")
        }
        if let advisor = fields.advisorID, try await staff.find(id: advisor, scope: .dealer(dealerID), in: tx) == nil {
            errors.add("advisor_id", "is not a staff member of this dealer")
        }
        try errors.throwIfAny()
        guard let customerID else { throw errors }
        return customerID
    }

    /// What recording a visit does besides its row. Returns why its odometer figure was not
    /// recorded as a reading, if it was not.
    private func effects(of visit: ServiceVisit, previous: ServiceVisit?, in step: UseCase) async throws -> String? {
        let f = visit.fields
        let openedOn = step.dealer.today(at: f.openedAt)
        var ignored: String?
        if let km = f.odometerKm, km != previous?.fields.odometerKm || f.vehicleID != previous?.fields.vehicleID {
            let history = try await vehicles.readings(vehicleID: f.vehicleID, dealerID: visit.dealerID, in: step.tx)
            do {
                try OdometerReading.validate(readOn: openedOn, km: km, today: step.today, history: history)
                _ = try await vehicles.insertReading(
                    dealerID: visit.dealerID, vehicleID: f.vehicleID, readOn: openedOn, km: km, source: .serviceVisit,
                    recordedBy: step.principal.keyID, now: step.now, in: step.tx)
            } catch let errors as ValidationErrors {
                ignored = errors.entries.map(\.message).joined(separator: "; ")
            }
        }
        if f.type == .recallCampaign {
            try await visits.closeRecall(vehicleID: f.vehicleID, dealerID: visit.dealerID, now: step.now, in: step.tx)
        }
        try await visits.answerReminders(
            visit, openedOn: openedOn, returnWindowDays: step.dealer.fields.settings.reminders.returnWindowDays, in: step.tx)
        if f.closedAt != nil, previous?.fields.closedAt == nil {
            _ = try await callbacks.scheduleAfterService(of: visit, in: step)
        }
        return ignored
    }

    public func get(_ id: UUID, context: CallContext) async throws -> ServiceVisit {
        try Authorization.require(.serviceVisitsRead, context.principal)
        guard let visit = try await visits.find(id: id, scope: context.principal.readScope, in: kit.pool) else {
            throw ServiceError.notFound("No such service visit.")
        }
        return visit
    }

    public func list(filter: ServiceVisitFilter, dealerFilter: UUID?, page: PageRequest, context: CallContext) async throws
        -> Page<ServiceVisit>
    {
        try Authorization.require(.serviceVisitsRead, context.principal)
        let scope = try await kit.access.readScope(context.principal, dealerFilter: dealerFilter)
        return try await visits.list(scope: scope, filter: filter, page: page, in: kit.pool)
    }

    // MARK: Schedules

    public func schedules(dealerFilter: UUID?, context: CallContext) async throws -> [MaintenanceSchedule] {
        try Authorization.require(.remindersRead, context.principal)
        let scope = try await kit.access.readScope(context.principal, dealerFilter: dealerFilter)
        return try await visits.schedules(scope: scope, in: kit.pool)
    }

    /// Sets the schedule of a brand and series (or the dealer-wide one); every vehicle's forecast
    /// is recomputed at the next scan.
    public func putSchedule(
        brand: String?, series: String?, firstKm: Int, firstMonths: Int, intervalKm: Int, intervalMonths: Int, dealerID: UUID?,
        context: CallContext
    ) async throws -> MaintenanceSchedule {
        let scope = try MaintenanceSchedule.validate(
            brand: brand, series: series, firstKm: firstKm, firstMonths: firstMonths, intervalKm: intervalKm,
            intervalMonths: intervalMonths)
        return try await kit.useCases.create(.remindersManage, dealer: dealerID, context: context) { step in
            let stored = try await visits.put(
                MaintenanceSchedule(
                    id: UUID(), dealerID: step.dealer.id, brand: scope.brand, series: scope.series, firstKm: firstKm,
                    firstMonths: firstMonths, intervalKm: intervalKm, intervalMonths: intervalMonths, updatedAt: step.now),
                in: step.tx)
            try await forecasts.queueAll(dealerID: step.dealer.id, in: step.tx)
            return stored
        }
    }

    public func deleteSchedule(_ id: UUID, context: CallContext) async throws {
        try Authorization.require(.remindersManage, context.principal)
        try await kit.pool.withTransaction { tx in
            guard let deleted = try await visits.deleteSchedule(id: id, scope: context.principal.readScope, in: tx) else {
                throw ServiceError.notFound("No such maintenance schedule.")
            }
            try await forecasts.queueAll(dealerID: deleted.dealerID, in: tx)
        }
    }
}
