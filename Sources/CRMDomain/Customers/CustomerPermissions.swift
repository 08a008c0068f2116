extension Permission {
    public static let customersRead = Permission("customersRead")
    public static let customersWrite = Permission("customersWrite")
    public static let customersDelete = Permission("customersDelete")
    /// Anonymise a customer on request (personal data wiped, history kept).
    public static let customersErase = Permission("customersErase")
    public static let consentsWrite = Permission("consentsWrite")
    /// The audit trail of contact-field changes.
    public static let auditRead = Permission("auditRead")
}
