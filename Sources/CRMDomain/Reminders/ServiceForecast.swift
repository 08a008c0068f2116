public import Foundation

/// When a vehicle's next maintenance is due, by time and by mileage, and why: the readings it
/// used and ignored, the km per day, both dates and the earlier one it chose.
public struct ServiceForecast: Sendable, Equatable {
    /// One odometer reading as the forecast sees it.
    public struct Reading: Sendable, Equatable {
        public var readOn: LocalDate
        public var km: Int

        public init(readOn: LocalDate, km: Int) {
            self.readOn = readOn
            self.km = km
        }
    }

    /// Why a reading was left out.
    public enum IgnoredReason: String, Sendable, Equatable, Codable {
        /// Below an earlier reading.
        case backwards
        /// More than `maxKmPerDay` since the reading before it.
        case implausibleRate = "implausible_rate"
    }

    public struct Ignored: Sendable, Equatable {
        public var reading: Reading
        public var reason: IgnoredReason
    }

    /// Where the km per day comes from.
    public enum RateSource: String, Sendable, Equatable, Codable {
        /// The readings: at least two usable ones at least `minimumSpanDays` apart.
        case readings
        /// The dealer's default (too few usable readings).
        case dealerDefault = "dealer_default"
    }

    /// Which service is next.
    public enum Step: String, Sendable, Equatable, Codable {
        /// The first service after delivery (none recorded yet).
        case firstService = "first_service"
        case maintenance
    }

    /// Which date was chosen (the earlier).
    public enum Basis: String, Sendable, Equatable, Codable {
        case time
        case mileage
    }

    public var step: Step
    public var used: [Reading]
    public var ignored: [Ignored]
    public var kmPerDay: Double
    public var rateSource: RateSource
    /// What the schedule counts from: the last maintenance visit, or the delivery.
    public var baseDate: LocalDate?
    public var baseKm: Int
    /// The odometer figure the service is due at.
    public var dueKm: Int
    /// Due by time (nil when neither a delivery date nor a maintenance visit is known).
    public var dueByTime: LocalDate?
    /// Due by mileage (nil when the odometer figure cannot be projected: no reading and no
    /// delivery date).
    public var dueByMileage: LocalDate?
    /// The earlier of the two (nil when neither is known).
    public var dueDate: LocalDate?
    public var basis: Basis?
    /// The projected odometer today.
    public var forecastKmToday: Int?
    /// How many usable readings there are, and how many days old the newest one is.
    public var readingsUsed: Int
    public var newestReadingAgeDays: Int?
    public var confidence: Confidence

    /// How far to trust the mileage date.
    public enum Confidence: String, Sendable, Equatable, Codable {
        /// Three or more usable readings, the newest within 180 days.
        case high
        /// Two usable readings, or a newest reading older than 180 days.
        case medium
        /// The dealer's default rate.
        case low
    }
}

/// The forecast rule: pure, so the endpoint, the scan's refresh and the tests compute the same.
public enum ServiceForecasting {
    /// Readings at least this many days apart give a rate.
    public static let minimumSpanDays = 7
    /// A reading implying more than this since the one before it is ignored.
    public static let maxKmPerDay = 1_000.0

    /// The next maintenance of a vehicle delivered on `delivery` (nil: unknown), whose last
    /// maintenance visit (if any) was on `lastMaintenance` at `lastMaintenanceKm`, given its
    /// odometer readings, the schedule that applies, the dealer's default km per day and today.
    public static func forecast(
        readings: [ServiceForecast.Reading], delivery: LocalDate?, lastMaintenance: (date: LocalDate, km: Int?)?,
        schedule: MaintenanceSchedule, defaultKmPerDay: Double, today: LocalDate
    ) -> ServiceForecast {
        // Oldest first; a reading below the last kept one, or faster than a car can go since it, is ignored.
        var used: [ServiceForecast.Reading] = []
        var ignored: [ServiceForecast.Ignored] = []
        for reading in readings.sorted(by: { ($0.readOn, $0.km) < ($1.readOn, $1.km) }) {
            guard let last = used.last else {
                used.append(reading)
                continue
            }
            if reading.km < last.km {
                ignored.append(.init(reading: reading, reason: .backwards))
                continue
            }
            let days = max(1, last.readOn.days(until: reading.readOn))
            if Double(reading.km - last.km) / Double(days) > maxKmPerDay {
                ignored.append(.init(reading: reading, reason: .implausibleRate))
                continue
            }
            used.append(reading)
        }
        var kmPerDay = defaultKmPerDay
        var rateSource = ServiceForecast.RateSource.dealerDefault
        if let first = used.first, let last = used.last, first.readOn.days(until: last.readOn) >= minimumSpanDays {
            kmPerDay = Double(last.km - first.km) / Double(first.readOn.days(until: last.readOn))
            rateSource = .readings
        }
        let step: ServiceForecast.Step = lastMaintenance == nil ? .firstService : .maintenance
        let baseDate = lastMaintenance?.date ?? delivery
        let baseKm: Int
        if let lastMaintenance {
            // The visit's own odometer figure, else the reading nearest before it, else projected.
            baseKm =
                lastMaintenance.km ?? used.last(where: { $0.readOn <= lastMaintenance.date })?.km
                ?? projected(at: lastMaintenance.date, from: used.last, delivery: delivery, kmPerDay: kmPerDay) ?? 0
        } else {
            baseKm = 0
        }
        let dueKm = baseKm + (step == .firstService ? schedule.firstKm : schedule.intervalKm)
        let dueByTime = baseDate.map { $0.adding(months: step == .firstService ? schedule.firstMonths : schedule.intervalMonths) }
        // The mileage date: from the newest usable reading (or the delivery at 0 km) at the rate.
        var dueByMileage: LocalDate?
        let anchor: (date: LocalDate, km: Int)? = used.last.map { ($0.readOn, $0.km) } ?? delivery.map { ($0, 0) }
        if let anchor, kmPerDay > 0 {
            let remaining = Double(dueKm - anchor.km)
            dueByMileage = anchor.date.adding(days: Int((remaining / kmPerDay).rounded(.up)))
        }
        let dueDate: LocalDate?
        let basis: ServiceForecast.Basis?
        switch (dueByTime, dueByMileage) {
        case (let time?, let mileage?):
            (dueDate, basis) = mileage < time ? (mileage, .mileage) : (time, .time)
        case (let time?, nil): (dueDate, basis) = (time, .time)
        case (nil, let mileage?): (dueDate, basis) = (mileage, .mileage)
        case (nil, nil): (dueDate, basis) = (nil, nil)
        }
        let newestAge = used.last.map { $0.readOn.days(until: today) }
        let confidence: ServiceForecast.Confidence =
            rateSource == .dealerDefault ? .low : (used.count >= 3 && (newestAge ?? .max) <= 180 ? .high : .medium)
        return ServiceForecast(
            step: step, used: used, ignored: ignored, kmPerDay: kmPerDay, rateSource: rateSource, baseDate: baseDate,
            baseKm: baseKm, dueKm: dueKm, dueByTime: dueByTime, dueByMileage: dueByMileage, dueDate: dueDate, basis: basis,
            forecastKmToday: projected(at: today, from: used.last, delivery: delivery, kmPerDay: kmPerDay),
            readingsUsed: used.count, newestReadingAgeDays: newestAge, confidence: confidence)
    }

    /// The odometer projected to `date` from the newest usable reading (or 0 km at delivery).
    public static func projected(at date: LocalDate, from reading: ServiceForecast.Reading?, delivery: LocalDate?, kmPerDay: Double)
        -> Int?
    {
        guard let anchor = reading ?? delivery.map({ ServiceForecast.Reading(readOn: $0, km: 0) }) else { return nil }
        let days = max(0, anchor.readOn.days(until: date))
        return anchor.km + Int((Double(days) * kmPerDay).rounded())
    }
}
