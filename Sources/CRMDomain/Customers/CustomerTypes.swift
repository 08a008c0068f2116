/// A person or a company.
public enum CustomerKind: String, Sendable, CaseIterable, Codable {
    case person
    case company
}

public enum Gender: String, Sendable, CaseIterable, Codable {
    case male
    case female
    case unknown
}

/// Annual household income band (CNY), as dealers collect it.
public enum IncomeBand: String, Sendable, CaseIterable, Codable {
    case below100k = "below_100k"
    case from100kTo300k = "100k_300k"
    case from300kTo500k = "300k_500k"
    case from500kTo1m = "500k_1m"
    case above1m = "above_1m"
}

public enum MaritalStatus: String, Sendable, CaseIterable, Codable {
    case single
    case married
    case divorced
    case widowed
}

/// Fleet / key-account categories (DOMAIN.md).
public enum FleetCategory: String, Sendable, CaseIterable, Codable {
    case corporate
    case supplier
    case rental
    case leasing
    case government
    case diplomatic
    case employee
    case vip
}

/// Marketing channels a customer consents to (permission marketing).
public enum ConsentChannel: String, Sendable, CaseIterable, Codable {
    case sms
    case phone
    case email
    case wechat
    case mail
}

public enum ConsentStatus: String, Sendable, CaseIterable, Codable {
    case granted
    case withdrawn
}

/// How a consent was given or withdrawn.
public enum ConsentSource: String, Sendable, CaseIterable, Codable {
    case showroomForm = "showroom_form"
    case phoneCall = "phone_call"
    case wechat
    case website
    case email
    case sms
    case serviceVisit = "service_visit"
    case `import`
    case customerRequest = "customer_request"
    case leadConversion = "lead_conversion"
}

/// Where an odometer reading came from.
public enum OdometerSource: String, Sendable, CaseIterable, Codable {
    case serviceVisit = "service_visit"
    case customer
    case telematics
    case sales
    case inspection
    case other
}

/// Staff functions at a dealer.
public enum StaffFunction: String, Sendable, CaseIterable, Codable {
    /// Sales consultant.
    case sales
    /// Service advisor.
    case service
    case crm
    case manager
}
