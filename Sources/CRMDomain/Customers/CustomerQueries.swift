import Foundation

/// Filters of the customer search (`GET /v1/customers`).
public struct CustomerFilter: Sendable, Equatable {
    /// Any spelling of the number; E.164 once normalised.
    public var phone: String?
    /// Case-insensitive prefix of the name (Chinese characters included).
    public var namePrefix: String?
    /// Current owner of the vehicle with this plate / VIN.
    public var plate: String?
    public var vin: String?
    public var tag: String?
    public var kind: CustomerKind?

    public init(
        phone: String? = nil, namePrefix: String? = nil, plate: String? = nil, vin: String? = nil, tag: String? = nil,
        kind: CustomerKind? = nil
    ) {
        self.phone = phone
        self.namePrefix = namePrefix
        self.plate = plate
        self.vin = vin
        self.tag = tag
        self.kind = kind
    }

    /// The filter as stored values compare: the phone in E.164, VIN and plate as vehicles keep
    /// them, the name prefix trimmed (1 to 100 characters).
    public func normalized() throws(ValidationErrors) -> CustomerFilter {
        var result = self
        var errors = ValidationErrors()
        result.phone = PhoneNumber.normalized(phone, errors: &errors)
        result.vin = vin.map(VehicleFilter.normalizedVIN)
        result.plate = plate.map(VehicleFilter.normalizedPlate)
        if let prefix = namePrefix {
            let trimmed = prefix.trimmingWhitespace()
            if trimmed.isEmpty || trimmed.count > 100 { errors.add("name", "must be 1 to 100 characters") }
            result.namePrefix = trimmed
        }
        try errors.throwIfAny()
        return result
    }
}
