public import CRMDomain
public import Foundation
public import PostgresClient

/// Satisfaction callbacks, their call attempts and surveys, and the dealers' question sets.
public struct CallbackRepository: Sendable {
    public init() {}

    static let columns: StaticString = """
        b.dealer_id, b.id, b.customer_id, b.purpose, b.complaint_id, b.lead_id, b.service_visit_id, b.due_date, \
        b.window_starts_at, b.window_ends_at, b.assignee_id, b.served_by_id, b.status, b.attempts, b.completed_at, \
        b.created_at, b.updated_at, b.version
        """

    static func decode(_ r: inout PostgresNamedRow) throws -> Callback {
        Callback(
            id: try r("id"), dealerID: try r("dealer_id"), customerID: try r("customer_id"), purpose: try r("purpose"),
            complaintID: try r("complaint_id"), leadID: try r("lead_id"), serviceVisitID: try r("service_visit_id"),
            dueDate: try r("due_date"), windowStartsAt: try r("window_starts_at"), windowEndsAt: try r("window_ends_at"),
            assigneeID: try r("assignee_id"), servedByID: try r("served_by_id"), status: try r("status"),
            attempts: try r("attempts"), completedAt: try r("completed_at"), createdAt: try r("created_at"),
            updatedAt: try r("updated_at"), version: try r("version"))
    }

    /// Schedules a callback once per `onceKey` (a complaint's resolution per cycle, a delivery
    /// per day): a second schedule of the same key returns the first.
    public func schedule(_ callback: Callback, onceKey: String, in tx: PostgresTransaction) async throws -> Callback {
        let inserted = try await tx.query(
            """
            INSERT INTO callbacks AS b (dealer_id, id, customer_id, purpose, complaint_id, lead_id, service_visit_id, once_key,
                due_date, window_starts_at, window_ends_at, assignee_id, served_by_id, status, created_at, updated_at)
            VALUES (\(callback.dealerID), \(callback.id), \(callback.customerID), \(callback.purpose), \(callback.complaintID),
                \(callback.leadID), \(callback.serviceVisitID), \(onceKey), \(callback.dueDate), \(callback.windowStartsAt),
                \(callback.windowEndsAt), \(callback.assigneeID), \(callback.servedByID), \(callback.status), \(callback.createdAt),
                \(callback.updatedAt))
            ON CONFLICT (dealer_id, once_key) DO NOTHING
            RETURNING \(sql: Self.columns)
            """
        ).first(named: Self.decode)
        if let inserted { return inserted }
        return try await tx.one(
            "SELECT \(sql: Self.columns) FROM callbacks b WHERE b.dealer_id = \(callback.dealerID) AND b.once_key = \(onceKey)",
            orElse: .noRowReturned, Self.decode)
    }

    public func find(id: UUID, scope: TenantScope, in db: some PostgresQueryable) async throws -> Callback? {
        try await db.query(
            "SELECT \(sql: Self.columns) FROM callbacks b WHERE \(fragment: scope.condition("b.dealer_id")) AND b.id = \(id)"
        ).first(named: Self.decode)
    }

    public func lock(id: UUID, scope: TenantScope, in tx: PostgresTransaction) async throws -> Callback? {
        try await tx.query(
            "SELECT \(sql: Self.columns) FROM callbacks b WHERE \(fragment: scope.condition("b.dealer_id")) AND b.id = \(id) FOR UPDATE"
        ).first(named: Self.decode)
    }

    /// The latest callback of a complaint (its current cycle's).
    public func latest(complaintID: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws -> Callback? {
        try await db.query(
            """
            SELECT \(sql: Self.columns) FROM callbacks b WHERE b.dealer_id = \(dealerID) AND b.complaint_id = \(complaintID)
            ORDER BY b.created_at DESC, b.id DESC LIMIT 1
            """
        ).first(named: Self.decode)
    }

    /// Due and overdue lists earliest first; otherwise newest first. `today` is each dealer's date
    /// at `now` when the scope is one dealer, else computed per row.
    public func list(
        scope: TenantScope, filter: CallbackFilter, today: LocalDate?, now: Date, page: PageRequest, in db: some PostgresQueryable
    ) async throws -> Page<Callback> {
        let dealerToday = dealerToday(today, now: now, dealerColumn: "b.dealer_id")
        var query: PostgresQuery = "SELECT \(sql: Self.columns) FROM callbacks b WHERE \(fragment: scope.pageCondition("b.dealer_id"))"
        if let status = filter.status { query.append(" AND b.status = \(constant: status)") }
        if let purpose = filter.purpose { query.append(" AND b.purpose = \(constant: purpose)") }
        if let assignee = filter.assigneeID { query.append(" AND b.assignee_id = \(assignee)") }
        if let complaint = filter.complaintID { query.append(" AND b.complaint_id = \(complaint)") }
        if filter.due || filter.overdue {
            query.append(" AND b.status = 'open'")
            if filter.due { query.append(" AND b.due_date <= \(fragment: dealerToday)") }
            if filter.overdue { query.append(" AND b.window_ends_at <= \(now)") }
            if let cursor = page.cursor {
                _ = try cursor.values(for: "callbacks.due", count: 2)
                query.append(" AND (b.due_date, b.id) > (\(try cursor.date(0)), \(try cursor.uuid(1)))")
            }
            let rows = try await db.query(
                scope.page(query, alias: "b", order: "b.due_date, b.id", limit: page.limit + 1)).map(named: Self.decode)
            return Page.from(rows, limit: page.limit, sort: "callbacks.due") { [$0.dueDate.description, $0.id.lowercasedText] }
        }
        if let cursor = page.cursor {
            _ = try cursor.values(for: "callbacks.created", count: 2)
            query.append(" AND (b.created_at, b.id) < (\(try cursor.timestamp(0)), \(try cursor.uuid(1)))")
        }
        let rows = try await db.query(
            scope.page(query, alias: "b", order: "b.created_at DESC, b.id DESC", limit: page.limit + 1)).map(named: Self.decode)
        return Page.from(rows, limit: page.limit, sort: "callbacks.created") { [Cursor.value(of: $0.createdAt), $0.id.lowercasedText] }
    }

    public func save(_ callback: Callback, now: Date, in tx: PostgresTransaction) async throws -> Callback {
        try await tx.one(
            """
            UPDATE callbacks AS b SET assignee_id = \(callback.assigneeID), status = \(callback.status),
                attempts = \(callback.attempts), completed_at = \(callback.completedAt), updated_at = \(now),
                version = b.version + 1
            WHERE b.dealer_id = \(callback.dealerID) AND b.id = \(callback.id) AND b.version = \(callback.version)
            RETURNING \(sql: Self.columns)
            """, orElse: .lostLock, Self.decode)
    }

    // MARK: Attempts and surveys

    public func insert(_ attempt: CallAttempt, dealerID: UUID, in tx: PostgresTransaction) async throws {
        try await tx.execute(
            """
            INSERT INTO call_attempts (dealer_id, id, callback_id, outcome, number_called, started_at, ended_at, caller_id, notes,
                recorded_at)
            VALUES (\(dealerID), \(attempt.id), \(attempt.callbackID), \(attempt.outcome), \(attempt.numberCalled),
                \(attempt.startedAt), \(attempt.endedAt), \(attempt.callerID), \(attempt.notes), \(attempt.recordedAt))
            """)
    }

    public func attempts(callbackID: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws -> [CallAttempt] {
        try await db.query(
            """
            SELECT id, callback_id, outcome, number_called, started_at, ended_at, caller_id, notes, recorded_at
            FROM call_attempts WHERE dealer_id = \(dealerID) AND callback_id = \(callbackID) ORDER BY seq
            """
        ).map(named: { r in
            CallAttempt(
                id: try r("id"), callbackID: try r("callback_id"), outcome: try r("outcome"), numberCalled: try r("number_called"),
                startedAt: try r("started_at"), endedAt: try r("ended_at"), callerID: try r("caller_id"), notes: try r("notes"),
                recordedAt: try r("recorded_at"))
        })
    }

    public func insert(
        _ survey: Survey, dealerID: UUID, callback: Callback, attempt: CallAttempt, in tx: PostgresTransaction
    ) async throws {
        try await tx.execute(
            """
            INSERT INTO surveys (dealer_id, id, callback_id, attempt_id, question_set_id, customer_id, purpose, complaint_id,
                caller_id, number_called, scores, csi, top_score, nps, comments, flags, flagged, recorded_at)
            VALUES (\(dealerID), \(survey.id), \(survey.callbackID), \(survey.attemptID), \(survey.questionSetID),
                \(callback.customerID), \(callback.purpose), \(callback.complaintID), \(attempt.callerID), \(attempt.numberCalled),
                \(try PostgresJSON(encoding: survey.scores)), \(survey.csi), \(survey.isTopScore), \(survey.nps.map(Int16.init)),
                \(survey.comments), \(try PostgresJSON(encoding: survey.flags)), \(!survey.flags.isEmpty), \(survey.recordedAt))
            """)
    }

    public func survey(callbackID: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws -> Survey? {
        try await db.query(
            """
            SELECT id, callback_id, attempt_id, question_set_id, scores, nps, comments, flags, recorded_at
            FROM surveys WHERE dealer_id = \(dealerID) AND callback_id = \(callbackID)
            """
        ).first(named: { r in
            Survey(
                id: try r("id"), callbackID: try r("callback_id"), attemptID: try r("attempt_id"),
                questionSetID: try r("question_set_id"), scores: try r.json("scores") ?? [:],
                nps: try r("nps", as: Int16?.self).map(Int.init), comments: try r("comments"), flags: try r.json("flags") ?? [],
                recordedAt: try r("recorded_at"))
        })
    }

    // MARK: Facts for the integrity checks

    /// The caller's surveys recorded since `since` (this one not yet among them), and how many
    /// of them were all top scores.
    public func callerRecord(callerID: UUID, dealerID: UUID, since: Date, in db: some PostgresQueryable) async throws
        -> (surveys: Int, topScores: Int)
    {
        try await db.one(
            """
            SELECT count(*)::int8 AS surveys, count(*) FILTER (WHERE top_score)::int8 AS top_scores FROM surveys
            WHERE dealer_id = \(dealerID) AND caller_id = \(callerID) AND recorded_at >= \(since)
            """, orElse: .noRowReturned, { r in (try r("surveys", as: Int.self), try r("top_scores", as: Int.self)) })
    }

    /// Customers of the group other than `customerID` whose phone is `number`, or who were
    /// surveyed on it.
    public func otherCustomers(on number: String, besides customerID: UUID, groupID: UUID, in db: some PostgresQueryable)
        async throws -> Int
    {
        try await db.one(
            """
            SELECT count(DISTINCT id)::int8 AS others FROM (
                SELECT c.id FROM customers c JOIN dealers d ON d.id = c.dealer_id
                WHERE d.group_id = \(groupID) AND c.phone = \(number) AND c.deleted_at IS NULL AND c.id <> \(customerID)
                UNION
                SELECT s.customer_id FROM surveys s JOIN dealers d ON d.id = s.dealer_id
                WHERE d.group_id = \(groupID) AND s.number_called = \(number) AND s.customer_id <> \(customerID)
            ) AS others
            """, orElse: .noRowReturned, { r in try r("others", as: Int.self) })
    }

    /// Staff of the dealer whose phone is `number`: their names.
    public func staff(withPhone number: String, dealerID: UUID, in db: some PostgresQueryable) async throws -> [String] {
        try await db.query("SELECT name FROM staff WHERE dealer_id = \(dealerID) AND phone = \(number) ORDER BY name").map {
            try $0.decode(0, as: String.self)
        }
    }

    // MARK: Question sets

    static let setColumns: StaticString = "dealer_id, id, purpose, name, questions, active, created_at"

    static func decodeSet(_ r: inout PostgresNamedRow) throws -> SurveyQuestionSet {
        SurveyQuestionSet(
            id: try r("id"), dealerID: try r("dealer_id"), purpose: try r("purpose"), name: try r("name"),
            questions: try r.json("questions") ?? [], active: try r("active"), createdAt: try r("created_at"))
    }

    /// The dealer's active set for `purpose`, if it defined one.
    public func activeSet(purpose: CallbackPurpose, dealerID: UUID, in db: some PostgresQueryable) async throws -> SurveyQuestionSet? {
        try await db.query(
            "SELECT \(sql: Self.setColumns) FROM survey_question_sets WHERE dealer_id = \(dealerID) AND purpose = \(purpose) AND active"
        ).first(named: Self.decodeSet)
    }

    public func questionSet(id: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws -> SurveyQuestionSet? {
        try await db.query(
            "SELECT \(sql: Self.setColumns) FROM survey_question_sets WHERE dealer_id = \(dealerID) AND id = \(id)"
        ).first(named: Self.decodeSet)
    }

    /// A new active set for its purpose; the set it replaces is kept (surveys refer to it), inactive.
    public func activate(_ set: SurveyQuestionSet, in tx: PostgresTransaction) async throws -> SurveyQuestionSet {
        try await tx.execute(
            "UPDATE survey_question_sets SET active = false WHERE dealer_id = \(set.dealerID) AND purpose = \(set.purpose) AND active")
        return try await tx.one(
            """
            INSERT INTO survey_question_sets (dealer_id, id, purpose, name, questions, active, created_at)
            VALUES (\(set.dealerID), \(set.id), \(set.purpose), \(set.name), \(try PostgresJSON(encoding: set.questions)), true,
                \(set.createdAt))
            RETURNING \(sql: Self.setColumns)
            """, orElse: .noRowReturned, Self.decodeSet)
    }

    public func questionSets(scope: TenantScope, in db: some PostgresQueryable) async throws -> [SurveyQuestionSet] {
        try await db.query(
            """
            SELECT \(sql: Self.setColumns) FROM survey_question_sets WHERE \(fragment: scope.condition())
            ORDER BY dealer_id, purpose, active DESC, created_at DESC
            """
        ).map(named: Self.decodeSet)
    }

    /// Erasure: the customer's survey comments and the notes of the calls made to him.
    public func scrub(customerID: UUID, dealerID: UUID, in tx: PostgresTransaction) async throws {
        try await tx.execute(
            "UPDATE surveys SET comments = '(erased)' WHERE dealer_id = \(dealerID) AND customer_id = \(customerID) AND comments IS NOT NULL")
        try await tx.execute(
            """
            UPDATE call_attempts a SET notes = '(erased)' FROM callbacks b
            WHERE a.dealer_id = \(dealerID) AND b.dealer_id = a.dealer_id AND b.id = a.callback_id
              AND b.customer_id = \(customerID) AND a.notes IS NOT NULL
            """)
    }
}
