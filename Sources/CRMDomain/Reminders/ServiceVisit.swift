public import Foundation

/// What a service visit (repair order) was for.
public enum ServiceVisitType: String, Sendable, CaseIterable, Codable {
    case maintenance
    /// The first service after delivery (首保).
    case firstService = "first_service"
    case repair
    case warranty
    /// Accident repair paid by insurance.
    case accident
    case inspection
    /// A recall campaign's work: closes the vehicle's open recall.
    case recallCampaign = "recall_campaign"

    /// Visits that count as the vehicle's maintenance (the schedule restarts from them).
    public var isMaintenance: Bool { self == .maintenance || self == .firstService }
}

/// One line of a repair order: labour and parts in minor units (fen).
public struct ServiceLineItem: Sendable, Equatable, Codable {
    public var code: String?
    public var description: String
    public var labourMinor: Int64
    public var partsMinor: Int64

    public init(code: String?, description: String, labourMinor: Int64, partsMinor: Int64) {
        self.code = code
        self.description = description
        self.labourMinor = labourMinor
        self.partsMinor = partsMinor
    }

    enum CodingKeys: String, CodingKey {
        case code, description
        case labourMinor = "labour_minor"
        case partsMinor = "parts_minor"
    }
}

/// The writable attributes of a service visit.
public struct ServiceVisitFields: Sendable, Equatable {
    public var vehicleID: UUID
    /// The customer the visit is for (default: the vehicle's current owner).
    public var customerID: UUID?
    /// The DMS repair-order number, unique per dealer: a DMS sending the same visit again updates it.
    public var repairOrderNumber: String
    public var type: ServiceVisitType
    public var openedAt: Date
    public var closedAt: Date?
    public var odometerKm: Int?
    public var lineItems: [ServiceLineItem]
    public var currency: String
    public var advisorID: UUID?
    public var notes: String?

    public init(
        vehicleID: UUID, customerID: UUID?, repairOrderNumber: String, type: ServiceVisitType, openedAt: Date, closedAt: Date?,
        odometerKm: Int?, lineItems: [ServiceLineItem], currency: String = "CNY", advisorID: UUID?, notes: String?
    ) {
        self.vehicleID = vehicleID
        self.customerID = customerID
        self.repairOrderNumber = repairOrderNumber
        self.type = type
        self.openedAt = openedAt
        self.closedAt = closedAt
        self.odometerKm = odometerKm
        self.lineItems = lineItems
        self.currency = currency
        self.advisorID = advisorID
        self.notes = notes
    }

    /// Labour and parts of every line.
    public var totalMinor: Int64 { lineItems.reduce(0) { $0 + $1.labourMinor + $1.partsMinor } }

    public func validated(now: Date) throws(ValidationErrors) -> ServiceVisitFields {
        var errors = ValidationErrors()
        var result = self
        result.repairOrderNumber =
            Text.required(repairOrderNumber, field: "repair_order_number", maxLength: 64, errors: &errors) ?? repairOrderNumber
        if openedAt > now.addingTimeInterval(300) { errors.add("opened_at", "cannot be in the future") }
        if let closedAt {
            if closedAt < openedAt { errors.add("closed_at", "cannot be before opened_at") }
            if closedAt > now.addingTimeInterval(300) { errors.add("closed_at", "cannot be in the future") }
        }
        if let odometerKm, !(0...3_000_000).contains(odometerKm) { errors.add("odometer_km", "must be between 0 and 3,000,000") }
        if lineItems.count > 200 { errors.add("line_items", "at most 200 lines") }
        var items: [ServiceLineItem] = []
        for (index, item) in lineItems.enumerated() {
            let code = Text.optional(item.code, field: "line_items[\(index)].code", maxLength: 40, errors: &errors)
            let text = Text.required(item.description, field: "line_items[\(index)].description", maxLength: 200, errors: &errors)
            if !(0...1_000_000_000).contains(item.labourMinor) {
                errors.add("line_items[\(index)].labour_minor", "must be between 0 and 1,000,000,000 (fen)")
            }
            if !(0...1_000_000_000).contains(item.partsMinor) {
                errors.add("line_items[\(index)].parts_minor", "must be between 0 and 1,000,000,000 (fen)")
            }
            items.append(ServiceLineItem(code: code, description: text ?? item.description, labourMinor: item.labourMinor, partsMinor: item.partsMinor))
        }
        result.lineItems = items
        if currency.count != 3 || !currency.allSatisfy({ $0.isASCII && $0.isUppercase }) {
            errors.add("currency", "must be an ISO 4217 code such as CNY")
        }
        result.notes = Text.optional(notes, field: "notes", maxLength: 2000, errors: &errors)
        try errors.throwIfAny()
        return result
    }
}

/// A service visit (repair order) at the dealer.
public struct ServiceVisit: Sendable, Equatable {
    public var id: UUID
    public var dealerID: UUID
    public var fields: ServiceVisitFields
    /// The customer it was for (the vehicle's owner when it was recorded, unless named).
    public var customerID: UUID
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    public init(id: UUID, dealerID: UUID, fields: ServiceVisitFields, customerID: UUID, createdAt: Date, updatedAt: Date, version: Int) {
        self.id = id
        self.dealerID = dealerID
        self.fields = fields
        self.customerID = customerID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }

    public var isClosed: Bool { fields.closedAt != nil }
}

/// Filters of the visit list (`GET /v1/service-visits`).
public struct ServiceVisitFilter: Sendable, Equatable {
    public var vehicleID: UUID?
    public var customerID: UUID?
    public var advisorID: UUID?
    public var type: ServiceVisitType?
    /// Opened on or after this dealer date.
    public var openedFrom: LocalDate?
    /// Opened on or before this dealer date.
    public var openedTo: LocalDate?
    public var repairOrderNumber: String?

    public init(
        vehicleID: UUID? = nil, customerID: UUID? = nil, advisorID: UUID? = nil, type: ServiceVisitType? = nil,
        openedFrom: LocalDate? = nil, openedTo: LocalDate? = nil, repairOrderNumber: String? = nil
    ) {
        self.vehicleID = vehicleID
        self.customerID = customerID
        self.advisorID = advisorID
        self.type = type
        self.openedFrom = openedFrom
        self.openedTo = openedTo
        self.repairOrderNumber = repairOrderNumber
    }
}

/// A dealer's maintenance schedule for a brand and series (both nil: the dealer-wide default; a
/// brand alone: every series of it): the first service at `firstKm` or `firstMonths` after
/// delivery, then every `intervalKm` or `intervalMonths`, whichever comes first.
public struct MaintenanceSchedule: Sendable, Equatable {
    public var id: UUID
    public var dealerID: UUID
    public var brand: String?
    public var series: String?
    public var firstKm: Int
    public var firstMonths: Int
    public var intervalKm: Int
    public var intervalMonths: Int
    public var updatedAt: Date

    public init(
        id: UUID, dealerID: UUID, brand: String?, series: String?, firstKm: Int, firstMonths: Int, intervalKm: Int,
        intervalMonths: Int, updatedAt: Date
    ) {
        self.id = id
        self.dealerID = dealerID
        self.brand = brand
        self.series = series
        self.firstKm = firstKm
        self.firstMonths = firstMonths
        self.intervalKm = intervalKm
        self.intervalMonths = intervalMonths
        self.updatedAt = updatedAt
    }

    /// DOMAIN.md: first service at 5,000 km or 6 months, then every 10,000 km or 12 months.
    public static func standard(dealerID: UUID) -> MaintenanceSchedule {
        MaintenanceSchedule(
            id: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), dealerID: dealerID, brand: nil, series: nil,
            firstKm: 5_000, firstMonths: 6, intervalKm: 10_000, intervalMonths: 12, updatedAt: Date(timeIntervalSince1970: 0))
    }

    /// Checks the figures and the scope (a series needs its brand).
    public static func validate(brand: String?, series: String?, firstKm: Int, firstMonths: Int, intervalKm: Int, intervalMonths: Int)
        throws(ValidationErrors) -> (brand: String?, series: String?)
    {
        var errors = ValidationErrors()
        let cleanBrand = Text.optional(brand, field: "brand", maxLength: 50, errors: &errors)
        let cleanSeries = Text.optional(series, field: "series", maxLength: 100, errors: &errors)
        if cleanSeries != nil, cleanBrand == nil { errors.add("series", "needs its brand") }
        if !(500...100_000).contains(firstKm) { errors.add("first_km", "must be between 500 and 100,000") }
        if !(1...60).contains(firstMonths) { errors.add("first_months", "must be between 1 and 60") }
        if !(1_000...100_000).contains(intervalKm) { errors.add("interval_km", "must be between 1,000 and 100,000") }
        if !(1...60).contains(intervalMonths) { errors.add("interval_months", "must be between 1 and 60") }
        try errors.throwIfAny()
        return (cleanBrand, cleanSeries)
    }

    /// The schedule that applies to a vehicle: its brand and series', else its brand's, else the
    /// dealer-wide one, else the standard.
    public static func applying(to brand: String, series: String?, among schedules: [MaintenanceSchedule], dealerID: UUID)
        -> MaintenanceSchedule
    {
        let key = brand.lowercased()
        if let series, let exact = schedules.first(where: { $0.brand?.lowercased() == key && $0.series?.lowercased() == series.lowercased() }) {
            return exact
        }
        if let brandWide = schedules.first(where: { $0.brand?.lowercased() == key && $0.series == nil }) { return brandWide }
        return schedules.first(where: { $0.brand == nil && $0.series == nil }) ?? standard(dealerID: dealerID)
    }
}
