import CRMDomain
import Foundation
import Testing

@Suite("Phone numbers, VINs, dates, permissions")
struct CustomerRulesTests {
    @Test(
        "mainland mobiles in every usual spelling become E.164",
        arguments: [
            "13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "+8613812345678", "0086 13812345678",
            "86 13812345678", "(+86) 138.1234.5678", "138\u{3000}1234\u{3000}5678",
        ])
    func mobiles(input: String) throws {
        #expect(try PhoneNumber.parse(input).get().e164 == "+8613812345678")
    }

    @Test("other numbers: E.164 with +, else refused with a reason")
    func otherNumbers() throws {
        #expect(try PhoneNumber.parse("+44 20 7946 0958").get().e164 == "+442079460958")
        #expect(try PhoneNumber.parse("+86 10 6552 9988").get().e164 == "+861065529988")
        #expect(PhoneNumber.parse("") == .failure(.empty))
        #expect(PhoneNumber.parse("12812345678") == .failure(.notAMobileNumber))
        #expect(PhoneNumber.parse("1381234567") == .failure(.invalidLength))
        // A landline written the usual way (trunk 0, area code) is accepted (see `landlines`).
        #expect(try PhoneNumber.parse("010-65529988").get().e164 == "+861065529988")
        #expect(PhoneNumber.parse("138abc45678") == .failure(.invalidCharacters))
        #expect(PhoneNumber.parse("+86 128 1234 5678") == .failure(.notAMobileNumber))
        #expect(PhoneNumber.parse("+1234") == .failure(.invalidLength))
    }

    @Test("VIN: 17 characters, no I/O/Q, check digit in position 9")
    func vins() throws {
        // Published example VINs with valid check digits.
        #expect(try VIN.parse("1M8GDM9AXKP042788").get().value == "1M8GDM9AXKP042788")
        #expect(try VIN.parse("  1m8gdm9axkp042788 ").get().value == "1M8GDM9AXKP042788")
        #expect(VIN.parse("1M8GDM9A1KP042788") == .failure(.checkDigitMismatch(expected: "X", found: "1")))
        #expect(VIN.parse("1M8GDM9AXKP04278") == .failure(.wrongLength))
        #expect(VIN.parse("1M8GDM9AXKP04278O") == .failure(.invalidCharacter("O")))
        let generated = try #require(VIN.withCheckDigit("LSVAU2180N2000000"))
        #expect(try VIN.parse(generated).get().value == generated)
    }

    @Test("calendar dates: parsing, leap years, month arithmetic, the dealer's day")
    func dates() throws {
        #expect(LocalDate("2024-02-29") != nil)
        #expect(LocalDate("2023-02-29") == nil)
        #expect(LocalDate("2024-13-01") == nil)
        #expect(LocalDate("2024-1-01") == nil)
        let date = try #require(LocalDate("2024-01-31"))
        #expect(date.adding(months: 1).description == "2024-02-29")
        #expect(date.adding(months: 13).description == "2025-02-28")
        #expect(date.adding(months: -2).description == "2023-11-30")
        #expect(date.adding(days: 366).description == "2025-01-31")
        #expect(try #require(LocalDate("1970-01-01")).daysSinceEpoch == 0)
        #expect(LocalDate(daysSinceEpoch: 20_415).description == "2025-11-23")
        // 2026-11-23 20:30 UTC is already the 24th in Shanghai.
        let instant = Date(timeIntervalSince1970: 1_795_465_800)
        #expect(LocalDate(instant, in: try #require(TimeZone(identifier: "Asia/Shanghai"))).description == "2026-11-24")
        #expect(LocalDate(instant, in: try #require(TimeZone(identifier: "UTC"))).description == "2026-11-23")
    }


    @Test("customer fields are trimmed and validated together, each problem naming its field")
    func customerValidation() throws {
        let today = try #require(LocalDate("2026-11-23"))
        let draft = CustomerFields(
            kind: .person, name: "  王小明 ", phone: "138 1234 5678", email: "wang@", birthday: LocalDate("2027-01-01"),
            children: 30, fleetCategory: .rental, tags: ["vip", " vip ", ""])
        do {
            _ = try draft.validated(today: today)
            Issue.record("should fail")
        } catch {
            #expect(Set(error.entries.map(\.field)) == ["email", "birthday", "children", "fleet_category", "tags[2]"])
        }
        let clean = try CustomerFields(kind: .person, name: "  王小明 ", phone: "138 1234 5678", tags: ["vip", " vip "]).validated(today: today)
        #expect(clean.name == "王小明")
        #expect(clean.phone == "+8613812345678")
        #expect(clean.tags == ["vip"])
    }

    @Test("odometer readings must fit the history")
    func odometer() throws {
        let vehicle = UUID()
        func reading(_ date: String, _ km: Int) throws -> OdometerReading {
            OdometerReading(id: UUID(), vehicleID: vehicle, readOn: try #require(LocalDate(date)), km: km, source: .customer, recordedAt: Date())
        }
        let history = [try reading("2025-01-01", 10_000), try reading("2025-06-01", 20_000)]
        let today = try #require(LocalDate("2025-12-01"))
        #expect(throws: Never.self) { try OdometerReading.validate(readOn: try #require(LocalDate("2025-09-01")), km: 25_000, today: today, history: history) }
        #expect(throws: Never.self) { try OdometerReading.validate(readOn: try #require(LocalDate("2025-03-01")), km: 15_000, today: today, history: history) }
        #expect(throws: ValidationErrors.self) { try OdometerReading.validate(readOn: try #require(LocalDate("2025-09-01")), km: 19_000, today: today, history: history) }
        #expect(throws: ValidationErrors.self) { try OdometerReading.validate(readOn: try #require(LocalDate("2025-03-01")), km: 21_000, today: today, history: history) }
        #expect(throws: ValidationErrors.self) { try OdometerReading.validate(readOn: try #require(LocalDate("2026-01-01")), km: 30_000, today: today, history: history) }
    }
}
