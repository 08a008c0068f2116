public import Foundation

/// The writable attributes of a vehicle.
public struct VehicleFields: Sendable, Equatable {
    public var vin: String
    public var plate: String?
    public var brand: String
    public var series: String?
    public var model: String?
    public var modelYear: Int?
    public var colour: String?
    public var deliveryDate: LocalDate?
    public var warrantyEnd: LocalDate?
    /// When the compulsory insurance runs out (the renewal reminder counts from it).
    public var insuranceExpiry: LocalDate?
    /// When the annual inspection (年检) is due.
    public var inspectionDue: LocalDate?
    public var openRecall: Bool

    public init(
        vin: String, plate: String? = nil, brand: String, series: String? = nil, model: String? = nil,
        modelYear: Int? = nil, colour: String? = nil, deliveryDate: LocalDate? = nil, warrantyEnd: LocalDate? = nil,
        insuranceExpiry: LocalDate? = nil, inspectionDue: LocalDate? = nil, openRecall: Bool = false
    ) {
        self.vin = vin
        self.plate = plate
        self.brand = brand
        self.series = series
        self.model = model
        self.modelYear = modelYear
        self.colour = colour
        self.deliveryDate = deliveryDate
        self.warrantyEnd = warrantyEnd
        self.insuranceExpiry = insuranceExpiry
        self.inspectionDue = inspectionDue
        self.openRecall = openRecall
    }

    public func validated() throws(ValidationErrors) -> VehicleFields {
        var errors = ValidationErrors()
        var result = self
        switch VIN.parse(vin) {
        case .success(let parsed): result.vin = parsed.value
        case .failure(let problem): errors.add("vin", VIN.message(for: problem))
        }
        if let plate = Text.optional(plate, field: "plate", maxLength: 12, errors: &errors) {
            // Plates are stored without spaces or dots, upper-case ("京A·12345" -> "京A12345").
            result.plate = VehicleFilter.normalizedPlate(plate)
        } else {
            result.plate = nil
        }
        result.brand = Text.required(brand, field: "brand", maxLength: 50, errors: &errors) ?? brand
        result.series = Text.optional(series, field: "series", maxLength: 100, errors: &errors)
        result.model = Text.optional(model, field: "model", maxLength: 100, errors: &errors)
        if let modelYear, !(1950...2100).contains(modelYear) { errors.add("model_year", "must be between 1950 and 2100") }
        result.colour = Text.optional(colour, field: "colour", maxLength: 50, errors: &errors)
        if let deliveryDate, let warrantyEnd, warrantyEnd < deliveryDate {
            errors.add("warranty_end", "cannot be before the delivery date")
        }
        if !errors.isEmpty { throw errors }
        return result
    }
}

public struct Vehicle: Sendable, Equatable {
    public var id: UUID
    public var dealerID: UUID
    public var fields: VehicleFields
    /// When the open recall began (nil without one): its notice is due then.
    public var recallOpenedOn: LocalDate?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    public init(
        id: UUID, dealerID: UUID, fields: VehicleFields, recallOpenedOn: LocalDate? = nil, createdAt: Date, updatedAt: Date,
        version: Int
    ) {
        self.id = id
        self.dealerID = dealerID
        self.fields = fields
        self.recallOpenedOn = recallOpenedOn
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }

    /// The vehicle with new fields at `today`: a recall that opens starts today, one that closes
    /// clears its date.
    public func changed(to fields: VehicleFields, today: LocalDate) -> Vehicle {
        var changed = self
        changed.fields = fields
        if fields.openRecall, !self.fields.openRecall { changed.recallOpenedOn = today }
        if !fields.openRecall { changed.recallOpenedOn = nil }
        return changed
    }
}

/// One odometer reading.
public struct OdometerReading: Sendable, Equatable {
    public var id: UUID
    public var vehicleID: UUID
    public var readOn: LocalDate
    public var km: Int
    public var source: OdometerSource
    public var recordedAt: Date

    public init(id: UUID, vehicleID: UUID, readOn: LocalDate, km: Int, source: OdometerSource, recordedAt: Date) {
        self.id = id
        self.vehicleID = vehicleID
        self.readOn = readOn
        self.km = km
        self.source = source
        self.recordedAt = recordedAt
    }

    /// A new reading must fit the existing history: a km figure not below any earlier reading
    /// and not above any later one (odometers do not run backwards), a date not in the future.
    public static func validate(
        readOn: LocalDate, km: Int, today: LocalDate, history: [OdometerReading]
    ) throws(ValidationErrors) {
        var errors = ValidationErrors()
        if !(0...3_000_000).contains(km) { errors.add("km", "must be between 0 and 3,000,000") }
        if readOn > today { errors.add("read_on", "cannot be in the future") }
        if let earlier = history.filter({ $0.readOn <= readOn }).max(by: { $0.km < $1.km }), earlier.km > km {
            errors.add("km", "is below the \(earlier.km) km read on \(earlier.readOn); odometers do not run backwards")
        }
        if let later = history.filter({ $0.readOn >= readOn }).min(by: { $0.km < $1.km }), later.km < km {
            errors.add("km", "is above the \(later.km) km read later, on \(later.readOn)")
        }
        if !errors.isEmpty { throw errors }
    }
}

/// Who owned a vehicle, from when to when (nil `ownedTo`: current owner).
public struct Ownership: Sendable, Equatable {
    public var id: UUID
    public var vehicleID: UUID
    public var customerID: UUID
    public var ownedFrom: LocalDate
    public var ownedTo: LocalDate?

    public init(id: UUID, vehicleID: UUID, customerID: UUID, ownedFrom: LocalDate, ownedTo: LocalDate?) {
        self.id = id
        self.vehicleID = vehicleID
        self.customerID = customerID
        self.ownedFrom = ownedFrom
        self.ownedTo = ownedTo
    }
}

/// Filters of the vehicle list (`GET /v1/vehicles`).
public struct VehicleFilter: Sendable, Equatable {
    public var vin: String?
    public var plate: String?
    public var brand: String?
    /// Vehicles this customer owns now.
    public var ownerID: UUID?
    public var openRecall: Bool?

    public init(vin: String? = nil, plate: String? = nil, brand: String? = nil, ownerID: UUID? = nil, openRecall: Bool? = nil) {
        self.vin = vin
        self.plate = plate
        self.brand = brand
        self.ownerID = ownerID
        self.openRecall = openRecall
    }

    /// VIN and plate as vehicles keep them.
    public func normalized() -> VehicleFilter {
        var result = self
        result.vin = vin.map(Self.normalizedVIN)
        result.plate = plate.map(Self.normalizedPlate)
        return result
    }

    /// A VIN as searched: trimmed, upper case.
    public static func normalizedVIN(_ vin: String) -> String { vin.trimmingWhitespace().uppercased() }

    /// A plate as searched: upper case, without the spaces, dots and dashes people write in it.
    public static func normalizedPlate(_ plate: String) -> String { plate.uppercased().filter { !" ·.-".contains($0) } }
}
