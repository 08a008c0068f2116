extension Permission {
    /// The background job queue: list and read jobs.
    public static let jobsRead = Permission("jobsRead")
    /// Retry or cancel a job.
    public static let jobsManage = Permission("jobsManage")
}
