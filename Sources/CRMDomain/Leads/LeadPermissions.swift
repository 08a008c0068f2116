extension Permission {
    /// Read leads (a sales consultant: his own and the shared pool).
    public static let leadsRead = Permission("leadsRead")
    /// Capture and work leads: edit, follow up, progress, declare lost, convert (a consultant: his own).
    public static let leadsWrite = Permission("leadsWrite")
    /// Assign leads to consultants, round-robin them, release them to the pool.
    public static let leadsAssign = Permission("leadsAssign")
    /// Approve or reject a declared loss.
    public static let leadsApproveLoss = Permission("leadsApproveLoss")
    /// Merge duplicate leads.
    public static let leadsMerge = Permission("leadsMerge")
    /// Lead KPIs.
    public static let leadsReport = Permission("leadsReport")
}
