extension Permission {
    public static let vehiclesRead = Permission("vehiclesRead")
    public static let vehiclesWrite = Permission("vehiclesWrite")
    public static let vehiclesDelete = Permission("vehiclesDelete")
}
