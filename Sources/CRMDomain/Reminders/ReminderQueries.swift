public import Foundation

extension Permission {
    /// Read service visits (the 360 view shows them to whoever reads customers).
    public static let serviceVisitsRead = Permission("serviceVisitsRead")
    /// Record and change service visits (advisors, the DMS integration).
    public static let serviceVisitsWrite = Permission("serviceVisitsWrite")
    /// Read reminders, forecasts, schedules, call tasks and the return-rate report.
    public static let remindersRead = Permission("remindersRead")
    /// Maintenance schedules, and running the reminder scan on demand.
    public static let remindersManage = Permission("remindersManage")
    /// Work call tasks (an advisor his own and the pool's).
    public static let callTasksWork = Permission("callTasksWork")
}

/// Filters of the reminder list (`GET /v1/reminders`).
public struct ReminderFilter: Sendable, Equatable {
    public var kind: ReminderKind?
    public var status: ReminderStatus?
    public var reason: SuppressionReason.Code?
    public var customerID: UUID?
    public var vehicleID: UUID?
    public var dueFrom: LocalDate?
    public var dueTo: LocalDate?

    public init(
        kind: ReminderKind? = nil, status: ReminderStatus? = nil, reason: SuppressionReason.Code? = nil, customerID: UUID? = nil,
        vehicleID: UUID? = nil, dueFrom: LocalDate? = nil, dueTo: LocalDate? = nil
    ) {
        self.kind = kind
        self.status = status
        self.reason = reason
        self.customerID = customerID
        self.vehicleID = vehicleID
        self.dueFrom = dueFrom
        self.dueTo = dueTo
    }
}

/// Filters of the call-task list (`GET /v1/call-tasks`).
public struct CallTaskFilter: Sendable, Equatable {
    public var advisorID: UUID?
    /// Only unassigned tasks (the pool).
    public var pool: Bool
    public var status: CallTaskStatus?
    /// Open and due by the dealer's today.
    public var due: Bool

    public init(advisorID: UUID? = nil, pool: Bool = false, status: CallTaskStatus? = nil, due: Bool = false) {
        self.advisorID = advisorID
        self.pool = pool
        self.status = status
        self.due = due
    }
}

/// How the return-rate report groups its rows.
public enum ReminderReportGrouping: String, Sendable, CaseIterable {
    case kind
    case advisor
    /// The month of the due date (`2026-11`).
    case month
    case dealer
}

/// One row of the return-rate report, counted in SQL over the reminders of the period.
public struct ReminderReportCounts: Sendable, Equatable {
    public var key: String?
    public var isTotal: Bool
    /// First touches that went out (queued, sent or answered).
    public var reminded: Int
    /// Of those, the customers who came back: a visit at the dealer between the reminder and
    /// the due date plus the return window.
    public var returned: Int
    /// Visits booked on call tasks.
    public var booked: Int
    /// The control group: held back, and of those who came back anyway.
    public var heldBack: Int
    public var heldBackReturned: Int
    /// Suppressed reminders by reason.
    public var suppressed: [SuppressionReason.Code: Int]

    public init(
        key: String?, isTotal: Bool, reminded: Int, returned: Int, booked: Int, heldBack: Int, heldBackReturned: Int,
        suppressed: [SuppressionReason.Code: Int]
    ) {
        self.key = key
        self.isTotal = isTotal
        self.reminded = reminded
        self.returned = returned
        self.booked = booked
        self.heldBack = heldBack
        self.heldBackReturned = heldBackReturned
        self.suppressed = suppressed
    }

    public var returnRate: Double? { LeadReportRates.share(returned, of: reminded) }
    public var controlReturnRate: Double? { LeadReportRates.share(heldBackReturned, of: heldBack) }
    /// What reminding added: the reminded customers' return rate minus the control group's.
    public var lift: Double? {
        guard let returnRate, let controlReturnRate else { return nil }
        return returnRate - controlReturnRate
    }
}
