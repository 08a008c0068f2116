public import Foundation

/// Which leads a caller sees: the tenant scope, narrowed for a sales consultant to his own leads
/// and the shared pool (open unassigned leads).
public struct LeadScope: Sendable, Equatable {
    public var tenant: TenantScope
    /// Set for a consultant: only leads he owns, or that wait in the pool.
    public var consultant: UUID?
    /// A consultant key not tied to a staff member sees the pool only.
    public var poolOnly: Bool

    public init(tenant: TenantScope, consultant: UUID? = nil, poolOnly: Bool = false) {
        self.tenant = tenant
        self.consultant = consultant
        self.poolOnly = poolOnly
    }

    /// A consultant (role `sales`) sees his own leads and the open pool; everyone else sees every
    /// lead of the dealers in `tenant`.
    public static func of(_ caller: Principal, tenant: TenantScope) -> LeadScope {
        guard caller.role == .sales else { return LeadScope(tenant: tenant) }
        if let staff = caller.staffID { return LeadScope(tenant: tenant, consultant: staff) }
        return LeadScope(tenant: tenant, poolOnly: true)
    }

    /// Whether a caller with this scope may work (change) `lead`: a consultant only his own.
    public func mayWork(_ lead: Lead) -> Bool {
        if poolOnly { return false }
        if let consultant { return lead.consultantID == consultant }
        return true
    }
}

/// Filters of the lead list (`GET /v1/leads`).
public struct LeadFilter: Sendable, Equatable {
    public var status: LeadStatus?
    public var channel: LeadChannel?
    public var consultantID: UUID?
    /// Only unassigned open leads (the shared pool), or only assigned ones.
    public var pool: Bool?
    public var temperature: LeadTemperature?
    public var qualified: Bool?
    /// Only open leads whose planned contact is before the dealer's today, earliest first.
    public var overdue: Bool
    /// Any spelling of the number; E.164 once normalised.
    public var phone: String?
    public var interestSeries: String?
    public var customerID: UUID?
    public var createdAfter: Date?
    public var createdBefore: Date?

    public init(
        status: LeadStatus? = nil, channel: LeadChannel? = nil, consultantID: UUID? = nil, pool: Bool? = nil,
        temperature: LeadTemperature? = nil, qualified: Bool? = nil, overdue: Bool = false, phone: String? = nil,
        interestSeries: String? = nil, customerID: UUID? = nil, createdAfter: Date? = nil, createdBefore: Date? = nil
    ) {
        self.status = status
        self.channel = channel
        self.consultantID = consultantID
        self.pool = pool
        self.temperature = temperature
        self.qualified = qualified
        self.overdue = overdue
        self.phone = phone
        self.interestSeries = interestSeries
        self.customerID = customerID
        self.createdAfter = createdAfter
        self.createdBefore = createdBefore
    }

    /// The filter as a caller may use it: the phone normalised, and a consultant's overdue list
    /// narrowed to his own leads (the pool's overdue leads are his manager's concern). Nil when
    /// the caller can have no overdue leads at all (a consultant key tied to nobody).
    public func normalized(for scope: LeadScope) throws(ValidationErrors) -> LeadFilter? {
        var result = self
        var errors = ValidationErrors()
        result.phone = PhoneNumber.normalized(phone, errors: &errors)
        try errors.throwIfAny()
        if overdue, scope.consultant != nil || scope.poolOnly {
            guard let consultant = scope.consultant else { return nil }
            result.consultantID = consultant
        }
        return result
    }
}

/// How the lead report groups its rows.
public enum LeadReportGrouping: String, Sendable, CaseIterable {
    case channel
    case consultant
    case series
    case dealer
}

/// The counts behind one row of the lead report (`key` nil: the totals row, or leads without a
/// value for the grouping, e.g. pool leads by consultant).
public struct LeadReportCounts: Sendable, Equatable {
    public var key: String?
    public var isTotal: Bool
    /// Leads created before the period ended and still open at its end (the prospect base).
    public var total: Int
    /// Leads created within the period (merged duplicates not counted: a prospect captured twice
    /// is one prospect).
    public var new: Int
    /// Leads created within the period that were later merged into another lead.
    public var duplicatesMerged: Int
    /// Distinct consultants owning the base's leads.
    public var consultants: Int
    /// Of the base: qualified (the 11 fields), hot as of the period's last day, considering a
    /// competitor.
    public var qualified: Int
    public var hot: Int
    public var consideringCompetitor: Int
    /// Won / lost within the period.
    public var won: Int
    public var lost: Int
    /// Of the period's new leads, those won by now (the conversion cohort).
    public var newWon: Int
    /// Open now with a planned contact before today.
    public var overdue: Int

    public init(
        key: String?, isTotal: Bool, total: Int, new: Int, duplicatesMerged: Int, consultants: Int, qualified: Int, hot: Int,
        consideringCompetitor: Int, won: Int, lost: Int, newWon: Int, overdue: Int
    ) {
        self.key = key
        self.isTotal = isTotal
        self.total = total
        self.new = new
        self.duplicatesMerged = duplicatesMerged
        self.consultants = consultants
        self.qualified = qualified
        self.hot = hot
        self.consideringCompetitor = consideringCompetitor
        self.won = won
        self.lost = lost
        self.newWon = newWon
        self.overdue = overdue
    }
}

/// Prospects of the base considering one competitor model, for one series of interest or (nil
/// series) over all of them.
public struct CompetitorCount: Sendable, Equatable {
    public var series: String?
    public var competitorModel: String
    public var prospects: Int

    public init(series: String?, competitorModel: String, prospects: Int) {
        self.series = series
        self.competitorModel = competitorModel
        self.prospects = prospects
    }
}

/// The lead report's rates, from its counts. Rates are nil when their denominator is 0.
public enum LeadReportRates {
    public static func share(_ part: Int, of whole: Int) -> Double? { whole == 0 ? nil : Double(part) / Double(whole) }

    public struct Row: Sendable, Equatable {
        public var counts: LeadReportCounts
        public var leadsPerConsultant: Double?
        public var qualifiedRate: Double?
        public var hotShare: Double?
        public var competitorShare: Double?
        public var conversionRate: Double?
        /// The row's part of the period's new leads (a channel's share of capture).
        public var shareOfNewLeads: Double?
    }

    /// Each row with its rates; `totals` is the totals row (the whole of every share).
    public static func rows(_ rows: [LeadReportCounts], totals: LeadReportCounts) -> [Row] {
        rows.map { row in
            Row(
                counts: row, leadsPerConsultant: share(row.total, of: row.consultants),
                qualifiedRate: share(row.qualified, of: row.total), hotShare: share(row.hot, of: row.total),
                competitorShare: share(row.consideringCompetitor, of: row.total), conversionRate: share(row.newWon, of: row.new),
                shareOfNewLeads: share(row.new, of: totals.new))
        }
    }

    /// One competitor model's prospects and their share of the base they come from: the whole
    /// base for a model over all series, the series' base for a model within one series.
    public struct Competitor: Sendable, Equatable {
        public var count: CompetitorCount
        public var share: Double?
    }

    public static func competitors(_ counts: [CompetitorCount], seriesBase: [String: Int], totalBase: Int) -> [Competitor] {
        counts.map { count in
            let base = count.series.map { seriesBase[$0] ?? 0 } ?? totalBase
            return Competitor(count: count, share: share(count.prospects, of: base))
        }
    }
}
