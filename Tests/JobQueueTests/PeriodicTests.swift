import CRMTestSupport
import Foundation
@testable import JobQueue
import PostgresClient
import Testing

@Suite("Periodic jobs")
struct PeriodicTests {
    @Test("with three workers running, a periodic job is enqueued once per period; a restart neither skips nor doubles")
    func oncePerPeriod() async throws {
        try await withTestDatabase { database in
            let pool = database.makePool()
            defer { pool.shutdownNow() }
            struct Tick: Codable { var period: Int64 }
            let schedule = PeriodicJob(name: "tick", recurrence: .every(.seconds(1))) { period, _ in
                try JobRequest(kind: "tick", arguments: Tick(period: Int64(period.timeIntervalSince1970)))
            }
            var registry = JobRegistry()
            registry.register("tick") { _ in .completed }
            func startThree(_ round: Int) -> [RunningWorker] {
                (1...3).map { n in
                    RunningWorker(database: database, registry: registry, id: "w\(round)-\(n)", periodic: [schedule]) {
                        $0.maintenanceInterval = .milliseconds(50)
                    }
                }
            }
            var workers = startThree(1)
            try await Task.sleep(for: .milliseconds(3_500))
            for worker in workers { try await worker.stop() }
            // Down across at least two period boundaries.
            try await Task.sleep(for: .milliseconds(2_500))
            workers = startThree(2)
            try await Task.sleep(for: .milliseconds(2_500))
            for worker in workers { try await worker.stop() }

            let rows = try await pool.query(
                "SELECT (args->>'period')::int8, count(*)::int8 FROM jobs WHERE kind = 'tick' GROUP BY 1 ORDER BY 1")
            let periods = try rows.map { try $0.decode(0, as: Int64.self) }
            let counts = try rows.map { try $0.decode(1, as: Int64.self) }
            // About eight seconds from the first start to the last stop; on a loaded machine the
            // workers take a while to start ticking, so at least five (before, across and after
            // the downtime: the no-gap check below is what proves the catch-up).
            #expect(periods.count >= 5, "periods: \(periods)")
            #expect(counts.allSatisfy { $0 == 1 }, "a period was enqueued twice: \(zip(periods, counts).filter { $0.1 > 1 })")
            // No gap: every second from the first period to the last, including the downtime.
            if let first = periods.first, let last = periods.last {
                #expect(periods == Array(first...last), "periods: \(periods)")
            }
            // The stored position is the last period enqueued.
            let stored = try await pool.queryFirst(
                "SELECT extract(epoch FROM last_period)::int8 FROM job_schedules WHERE name = 'tick' AND scope = ''")
            #expect(try stored?.decode(0, as: Int64.self) == periods.last)
        }
    }

    @Test("one scope that cannot enqueue does not hold up the others")
    func failingScope() async throws {
        try await withTestPool { pool, _ in
            let good = UUID()
            struct Refused: Error {}
            let schedule = PeriodicJob(
                name: "mixed", recurrence: .every(.seconds(60)),
                scopes: { [.dealer(UUID(), timeZone: .gmt), .dealer(good, timeZone: .gmt)] },
                makeJob: { _, scope in
                    guard scope.dealerID == good else { throw Refused() }
                    return JobRequest(kind: "mixed.run")
                })
            let scheduler = PeriodicScheduler(
                queue: JobQueue(pool: pool, logger: TestDatabase.logger), pool: pool, jobs: [schedule], logger: TestDatabase.logger)
            // Half way through a minute, so that 61 s later exactly one period boundary has passed
            // (from 59 s past a minute, two had: the test failed about once in sixty runs).
            let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.down) * 60 + 30)
            try await scheduler.tick(now: start)
            try await scheduler.tick(now: start.addingTimeInterval(61))
            let dealers = try await pool.query("SELECT dealer_id FROM jobs").map { try $0.decode(0, as: UUID.self) }
            #expect(dealers == [good])
        }
    }

    @Test("per-dealer schedules fire at the dealer's local time")
    func perDealerLocalTime() async throws {
        try await withTestPool { pool, _ in
            let shanghai = try #require(TimeZone(identifier: "Asia/Shanghai"))
            let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
            let dealerA = UUID()
            let dealerB = UUID()
            let schedule = PeriodicJob(
                name: "nightly", recurrence: try .cron("0 2 * * *"),
                scopes: { [.dealer(dealerA, timeZone: shanghai), .dealer(dealerB, timeZone: berlin)] },
                makeJob: { _, _ in JobRequest(kind: "nightly.scan") })
            let scheduler = PeriodicScheduler(
                queue: JobQueue(pool: pool, logger: TestDatabase.logger), pool: pool, jobs: [schedule],
                logger: TestDatabase.logger)
            // First sight on 2026-11-23 17:00 UTC (01:00 in Shanghai, 18:00 in Berlin): nothing yet.
            let start = try #require(ISO8601DateFormatter().date(from: "2026-11-23T17:00:00Z"))
            try await scheduler.tick(now: start)
            #expect(try await count(pool) == 0)
            // 18:00 UTC = 02:00 Shanghai: dealer A's nightly run only.
            try await scheduler.tick(now: start.addingTimeInterval(3_600))
            var dealers = try await pool.query("SELECT dealer_id FROM jobs").map { try $0.decode(0, as: UUID.self) }
            #expect(dealers == [dealerA])
            // 01:00 UTC next day = 02:00 Berlin: dealer B's.
            try await scheduler.tick(now: start.addingTimeInterval(8 * 3_600))
            dealers = try await pool.query("SELECT dealer_id FROM jobs ORDER BY id").map { try $0.decode(0, as: UUID.self) }
            #expect(dealers == [dealerA, dealerB])
            // Ticking again in the same period adds nothing.
            try await scheduler.tick(now: start.addingTimeInterval(9 * 3_600))
            #expect(try await count(pool) == 2)
        }
    }
}

@Suite("Recurrences (cron)")
struct RecurrenceTests {
    let utc = TimeZone(identifier: "UTC")!
    let shanghai = TimeZone(identifier: "Asia/Shanghai")!

    func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test("every day at 02:00 in the dealer's time zone")
    func dailyLocal() throws {
        let cron = try Recurrence.cron("0 2 * * *")
        // 2026-11-23 20:00 UTC is 04:00 on the 24th in Shanghai: next 02:00 local is the 25th, 18:00 UTC.
        #expect(cron.next(after: date("2026-11-23T20:00:00Z"), in: shanghai) == date("2026-11-24T18:00:00Z"))
        #expect(cron.next(after: date("2026-11-23T17:59:00Z"), in: shanghai) == date("2026-11-23T18:00:00Z"))
        // Strictly after: the firing instant itself gives the next day.
        #expect(cron.next(after: date("2026-11-23T18:00:00Z"), in: shanghai) == date("2026-11-24T18:00:00Z"))
    }

    @Test("steps, ranges, lists, weekdays, month ends, leap days")
    func fields() throws {
        let fiveMinutes = try Recurrence.cron("*/5 * * * *")
        #expect(fiveMinutes.next(after: date("2026-11-24T10:03:10Z"), in: utc) == date("2026-11-24T10:05:00Z"))
        let weekdays = try Recurrence.cron("30 9 * * 1-5")
        // 2026-11-28 is a Saturday: next is Monday the 30th.
        #expect(weekdays.next(after: date("2026-11-27T10:00:00Z"), in: utc) == date("2026-11-30T09:30:00Z"))
        let sunday = try Recurrence.cron("0 0 * * 7")
        #expect(sunday.next(after: date("2026-11-24T00:00:00Z"), in: utc) == date("2026-11-29T00:00:00Z"))
        let monthEnd = try Recurrence.cron("0 12 31 * *")
        #expect(monthEnd.next(after: date("2026-11-01T00:00:00Z"), in: utc) == date("2026-12-31T12:00:00Z"))
        let leap = try Recurrence.cron("0 0 29 2 *")
        #expect(leap.next(after: date("2026-03-01T00:00:00Z"), in: utc) == date("2028-02-29T00:00:00Z"))
        let list = try Recurrence.cron("0 8,20 * * *")
        #expect(list.next(after: date("2026-11-24T08:00:00Z"), in: utc) == date("2026-11-24T20:00:00Z"))
        // Day of month or day of week when both are restricted (classic cron).
        let either = try Recurrence.cron("0 0 1 * 1")
        #expect(either.next(after: date("2026-11-24T00:00:00Z"), in: utc) == date("2026-11-30T00:00:00Z"))
        #expect(try Recurrence.cron("0 0 31 2 *").next(after: date("2026-01-01T00:00:00Z"), in: utc) == nil)
    }

    @Test("intervals fire at whole multiples since the epoch, always strictly later")
    func intervals() {
        let every5 = Recurrence.every(.seconds(300))
        #expect(every5.next(after: date("2026-11-24T10:03:10Z"), in: utc) == date("2026-11-24T10:05:00Z"))
        #expect(every5.next(after: date("2026-11-24T10:05:00Z"), in: utc) == date("2026-11-24T10:10:00Z"))
        // A period that is not a whole number of seconds: floating point once returned `date` itself.
        let odd = Recurrence.every(.milliseconds(3333))
        var at = Date(timeIntervalSince1970: 1_750_000_012.497)
        for _ in 0..<1_000 {
            let next = odd.next(after: at, in: utc)!
            #expect(next > at)
            at = next
        }
        #expect(Recurrence.every(.milliseconds(500)).next(after: at, in: utc) == nil)
    }

    @Test("daylight saving: a local time that does not exist runs once after the jump; a repeated one runs once")
    func daylightSaving() throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let daily = try Recurrence.cron("0 2 * * *")
        // 29 March 2026: 02:00 CET jumps to 03:00 CEST. The day is not skipped.
        let spring = try #require(daily.next(after: date("2026-03-28T12:00:00Z"), in: berlin))
        #expect(spring > date("2026-03-28T23:59:00Z") && spring <= date("2026-03-29T01:00:00Z"), "\(spring)")
        #expect(daily.next(after: spring, in: berlin) == date("2026-03-30T00:00:00Z"))
        // 25 October 2026: 03:00 CEST falls back to 02:00 CET; 02:00 happens twice, runs once.
        let autumn = try #require(daily.next(after: date("2026-10-24T12:00:00Z"), in: berlin))
        #expect(autumn == date("2026-10-25T00:00:00Z"))
        #expect(daily.next(after: autumn, in: berlin) == date("2026-10-26T01:00:00Z"))
        // Every 30 minutes through the autumn night: no instant twice, none skipped.
        let halfHourly = try Recurrence.cron("*/30 * * * *")
        var fires: [Date] = []
        var at = date("2026-10-24T22:00:00Z")
        while at < date("2026-10-25T03:00:00Z") {
            at = try #require(halfHourly.next(after: at, in: berlin))
            fires.append(at)
        }
        #expect(zip(fires, fires.dropFirst()).allSatisfy { $1 > $0 })
        // On the hour in local time, also in a zone 30 minutes off UTC.
        let kolkata = try #require(TimeZone(identifier: "Asia/Kolkata"))
        #expect(Recurrence.hourly.next(after: date("2026-11-24T10:00:00Z"), in: kolkata) == date("2026-11-24T10:30:00Z"))
    }

    @Test("a bad expression names the field", arguments: [
        ("0 2 * *", "expected 5 fields"), ("61 * * * *", "minute field '61' is outside 0-59"),
        ("* 24 * * *", "hour field '24'"), ("*/0 * * * *", "minute step '0'"), ("* * * x *", "month field 'x'"),
    ])
    func badExpressions(expression: String, problem: String) {
        #expect {
            _ = try CronSchedule(expression)
        } throws: { error in
            (error as? CronSchedule.ParseError)?.problem.contains(problem) == true
        }
    }
}
