import CRMTestSupport
import Foundation
import PostgresClient
import Testing

@Suite("Typed values through libpq")
struct TypeRoundTripTests {
    @Test("text, integers, bool, numeric, float, uuid round-trip, NULLs included")
    func scalars() async throws {
        try await withTestPool(migrated: false) { pool, _ in
            let id = UUID()
            let row = try #require(
                try await pool.queryFirst(
                    """
                    SELECT \("王小明")::text, \(Int.max)::int8, \(Int32.min)::int4, \(Int16(-7))::int2, \(true)::bool,
                           \(Decimal(string: "12345678901234567890.123456789")!)::numeric, \(3.25)::float8,
                           \(id)::uuid, \(String?.none)::text, \(Int?.none)::int8, \("")::text
                    """))
            #expect(try row.decode(0, as: String.self) == "王小明")
            #expect(try row.decode(1, as: Int.self) == Int.max)
            #expect(try row.decode(2, as: Int32.self) == Int32.min)
            #expect(try row.decode(3, as: Int16.self) == -7)
            #expect(try row.decode(4, as: Bool.self) == true)
            #expect(try row.decode(5, as: Decimal.self) == Decimal(string: "12345678901234567890.123456789")!)
            #expect(try row.decode(6, as: Double.self) == 3.25)
            #expect(try row.decode(7, as: UUID.self) == id)
            #expect(try row.decode(8, as: String?.self) == nil)
            #expect(try row.decode(9, as: Int?.self) == nil)
            #expect(try row.decode(10, as: String.self) == "")
            #expect(row.isNull(8))
        }
    }

    @Test("non-ASCII text: Chinese names, emoji, quotes and backslashes survive")
    func unicodeText() async throws {
        try await withTestPool(migrated: false) { pool, _ in
            try await pool.execute("CREATE TABLE people (name text NOT NULL)")
            let names = ["欧阳娜娜", "司马 懿", "Zoë \"Quote\" O'Brien \\ back", "🚗 车主俱乐部", "\t\n"]
            for name in names { try await pool.execute("INSERT INTO people VALUES (\(name))") }
            let stored = try await pool.query("SELECT name FROM people ORDER BY name").map { try $0.decode(0, as: String.self) }
            #expect(Set(stored) == Set(names))
            let length = try await pool.queryFirst("SELECT char_length(\("欧阳娜娜"))")?.decode(0, as: Int.self)
            #expect(length == 4)
        }
    }

    @Test("a bound parameter that contains SQL is stored verbatim, never executed")
    func injectionIsInert() async throws {
        try await withTestPool(migrated: false) { pool, _ in
            try await pool.execute("CREATE TABLE x (note text)")
            let hostile = "'; drop table x; --"
            try await pool.execute("INSERT INTO x (note) VALUES (\(hostile))")
            let evil2 = "1); DELETE FROM x; --"
            try await pool.execute("INSERT INTO x (note) VALUES (\(evil2))")
            let notes = try await pool.query("SELECT note FROM x ORDER BY note").map { try $0.decode(0, as: String.self) }
            #expect(notes.sorted() == [hostile, evil2].sorted())
            let query: PostgresQuery = "SELECT * FROM x WHERE note = \(hostile)"
            #expect(query.sql == "SELECT * FROM x WHERE note = $1")
        }
    }

    @Test("a parameter with a NUL byte is refused, never silently truncated at the NUL")
    func nulByte() async throws {
        try await withTestPool(migrated: false) { pool, _ in
            try await pool.execute("CREATE TABLE t (v text)")
            do {
                try await pool.execute("INSERT INTO t VALUES (\("abc\u{0}def"))")
                Issue.record("a NUL byte should be refused")
            } catch let error as PostgresError {
                #expect(error.code == .characterNotInRepertoire)
                #expect(error.kind == .invalidData)
            }
            #expect(try await pool.queryFirst("SELECT count(*) FROM t")?.decode(0, as: Int.self) == 0)
        }
    }

    @Test("timestamps: instants are kept across session time zones; dates stay calendar dates")
    func timestamps() async throws {
        try await withTestPool(migrated: false) { pool, _ in
            try await pool.execute("CREATE TABLE t (at timestamptz, d date)")
            // 2026-11-23T23:30:00.123456Z, late evening UTC = next morning in Shanghai.
            let instant = Date(timeIntervalSince1970: 1_795_476_600.123456)
            try await pool.execute("INSERT INTO t VALUES (\(instant), \(PostgresDate(year: 2024, month: 2, day: 29)))")
            let back = try #require(try await pool.queryFirst("SELECT at, d FROM t"))
            let decoded = try back.decode(0, as: Date.self)
            #expect(abs(decoded.timeIntervalSince1970 - instant.timeIntervalSince1970) < 0.000_001)
            #expect(try back.decode(1, as: PostgresDate.self) == PostgresDate(year: 2024, month: 2, day: 29))

            // The same instant read in a session set to Shanghai: the client still decodes it
            // correctly because the server sends the offset.
            try await pool.withConnection { connection in
                try await connection.executeScript("SET TimeZone = 'Asia/Shanghai'")
                let text = try await connection.queryFirst("SELECT at::text FROM t")?.decode(0, as: String.self)
                #expect(text?.hasSuffix("+08") == true)
                let shanghai = try await connection.queryFirst("SELECT at FROM t")?.decode(0, as: Date.self)
                #expect(abs((shanghai?.timeIntervalSince1970 ?? 0) - instant.timeIntervalSince1970) < 0.000_001)
                let local = try await connection.queryFirst("SELECT (at AT TIME ZONE 'Asia/Shanghai')::date FROM t")?
                    .decode(0, as: PostgresDate.self)
                #expect(local == PostgresDate(year: 2026, month: 11, day: 24))
                try await connection.executeScript("SET TimeZone = 'UTC'")
            }
            // Half-hour offsets and dates before 1970.
            let old = try await pool.queryFirst("SELECT '1969-07-20 20:17:40+05:30'::timestamptz")?.decode(0, as: Date.self)
            #expect(old == Date(timeIntervalSince1970: -14_182_940 - 19_800))
        }
    }

    @Test("jsonb, bytea and arrays")
    func structured() async throws {
        struct Payload: Codable, Equatable {
            var name: String
            var tags: [String]
        }
        try await withTestPool(migrated: false) { pool, _ in
            let payload = Payload(name: "李雷", tags: ["vip", "车主"])
            let row = try #require(
                try await pool.queryFirst(
                    """
                    SELECT \(try PostgresJSON(encoding: payload)), \(PostgresBytes([0, 1, 254, 255])),
                           \(["a", "b c", "\"q\"", "逗,号"])::text[], \([1, 2, 3])::int8[], ARRAY[NULL, 'x']::text[],
                           '{}'::int4[]
                    """))
            #expect(try row.decode(0, as: PostgresJSON.self).decode(Payload.self) == payload)
            #expect(try row.decode(1, as: PostgresBytes.self).bytes == [0, 1, 254, 255])
            #expect(try row.decode(2, as: [String].self) == ["a", "b c", "\"q\"", "逗,号"])
            #expect(try row.decode(3, as: [Int].self) == [1, 2, 3])
            #expect(try row.decode(4, as: [String?].self) == [nil, "x"])
            #expect(try row.decode(5, as: [Int].self) == [])
        }
    }

    @Test("an empty value is not NULL, and NULL is nil whatever the type")
    func emptyIsNotNull() async throws {
        try await withTestPool(migrated: false) { pool, _ in
            let row = try #require(try await pool.queryFirst("SELECT ''::text, NULL::text, ''::bytea, NULL::int8, 'x'::text"))
            #expect(try row.decode(0, as: String?.self) == "")
            #expect(try row.decode(1, as: String?.self) == nil)
            #expect(try row.decode(2, as: PostgresBytes?.self) == PostgresBytes([]))
            #expect(try row.decode(3, as: Int?.self) == nil)
            #expect(try row.decode(4, as: String?.self) == "x")
            #expect(row.isNull(1) && !row.isNull(0))
            #expect(throws: PostgresDecodingError.self) { try row.decode(1, as: String.self) }
        }
    }

    @Test("text arrays of awkward elements come back as sent (quotes, backslashes, commas, braces, NULL and 'NULL')")
    func awkwardTextArrays() async throws {
        let pieces = ["", "a", "NULL", "null", "\"", "\\", ",", "{", "}", " ", "车主", "\\\"", "x y", "[1:1]="]
        var generator = SystemRandomNumberGenerator()
        try await withTestPool(migrated: false) { pool, _ in
            for _ in 0..<300 {
                let array: [String?] = (0..<Int.random(in: 0...5, using: &generator)).map { _ in
                    Int.random(in: 0..<6, using: &generator) == 0
                        ? nil
                        : (0..<Int.random(in: 0...3, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
                }
                let row = try #require(try await pool.queryFirst("SELECT \(array)::text[], array_length(\(array)::text[], 1)"))
                #expect(try row.decode(0, as: [String?].self) == array, "\(array)")
                #expect(try row.decode(1, as: Int?.self) == (array.isEmpty ? nil : array.count))
            }
        }
    }

    @Test("a value that does not fit names the column")
    func decodingErrorNamesColumn() async throws {
        try await withTestPool(migrated: false) { pool, _ in
            let row = try #require(try await pool.queryFirst("SELECT 'abc'::text AS customer_name, NULL::int AS age"))
            do {
                _ = try row.decode("customer_name", as: Int.self)
                Issue.record("decoding text as Int should fail")
            } catch let error as PostgresDecodingError {
                #expect(error.column == "customer_name")
                #expect(error.description.contains("customer_name"))
            }
            do {
                _ = try row.decode("age", as: Int.self)
                Issue.record("decoding NULL as Int should fail")
            } catch let error as PostgresDecodingError {
                #expect(error.column == "age")
                #expect(error.reason.contains("NULL"))
            }
            #expect(try row.decode("age", as: Int?.self) == nil)
            #expect(throws: PostgresDecodingError.self) { try row.decode("missing", as: Int.self) }
        }
    }

    @Test("composed queries renumber their placeholders")
    func composition() async throws {
        try await withTestPool(migrated: false) { pool, _ in
            var query: PostgresQuery = "SELECT count(*) FROM generate_series(1, \(10)) g WHERE g > \(2)"
            query.append(" AND g < \(9)")
            query.append(" AND g <> \(5) AND g <> \(6)")
            #expect(query.sql.contains("$4") && query.sql.contains("$3"))
            let count = try await pool.queryFirst(query)?.decode(0, as: Int.self)
            #expect(count == 4)
        }
    }

    private enum Shade: String, CaseIterable { case light, dark_2 }
    private enum Rank: Int16, CaseIterable { case low = 0, high = 3 }

    @Test("a row count, a set of enumeration cases and single cases are written into the text, not bound")
    func constantsInTheText() async throws {
        try await withTestPool(migrated: false) { pool, _ in
            let query: PostgresQuery = """
                SELECT s FROM unnest(ARRAY['light', 'dark_2', 'other']) AS s
                WHERE s = ANY(\(constants: Shade.allCases)::text[]) AND s <> \("x") ORDER BY s LIMIT \(limit: 5)
                """
            #expect(query.sql.hasSuffix("WHERE s = ANY('{light,dark_2}'::text[]) AND s <> $1 ORDER BY s LIMIT 5"))
            #expect(query.bindings.count == 1)
            let shades = try await pool.query(query).map { try $0.decode(0, as: String.self) }
            #expect(shades == ["dark_2", "light"])
            let none: PostgresQuery = "SELECT count(*) FROM unnest(ARRAY['light']) AS s WHERE s = ANY(\(constants: [Shade]())::text[])"
            let count = try await pool.queryFirst(none)?.decode(0, as: Int.self)
            #expect(count == 0)
            let ranked: PostgresQuery = "SELECT r FROM unnest(ARRAY[0, 2, 3, 4]::int2[]) AS r WHERE r >= \(constant: Rank.high) ORDER BY r"
            #expect(ranked.sql.hasSuffix("WHERE r >= 3 ORDER BY r"))
            #expect(ranked.bindings.count == 0)
            #expect(try await pool.query(ranked).map { try $0.decode(0, as: Int.self) } == [3, 4])
            let picked: PostgresQuery = """
                SELECT s, f FROM (VALUES ('light', true), ('dark_2', false), ('dark_2', true)) AS v (s, f)
                WHERE s = \(constant: Shade.dark_2) AND f = \(constant: true)
                """
            #expect(picked.sql.hasSuffix("WHERE s = 'dark_2' AND f = true"))
            #expect(picked.bindings.count == 0)
            #expect(try await pool.query(picked).count == 1)
            #expect(PostgresQuery.isPlainConstant("loss_pending") && PostgresQuery.isPlainConstant("400_hotline"))
            #expect(!PostgresQuery.isPlainConstant("") && !PostgresQuery.isPlainConstant("it's") && !PostgresQuery.isPlainConstant("Lost"))
        }
    }
}

@Suite("UUID text")
struct UUIDTextTests {
    static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    @Test("hand-written formatting and parsing agree with Foundation's")
    func agreesWithFoundation() {
        for _ in 0..<2_000 {
            let id = UUID()
            #expect(id.lowercasedText == id.uuidString.lowercased())
            for text in [id.uuidString, id.uuidString.lowercased()] {
                let parsed = Array(text.utf8).withUnsafeBufferPointer { UUID(canonicalText: $0) }
                #expect(parsed == id)
                #expect(UUID(canonicalText: text) == id)
            }
        }
        for bad in ["", "not-a-uuid", "0123456789abcdef0123456789abcdef0123", "01234567-89ab-cdef-0123-456789abcdeg",
                    "01234567-89ab-cdef-0123_456789abcdef", "01234567-89ab-cdef-0123-456789abcde"] {
            #expect(Array(bad.utf8).withUnsafeBufferPointer { UUID(canonicalText: $0) } == nil, "\(bad)")
            #expect(UUID(canonicalText: bad) == nil, "\(bad)")
        }
        // Every place of the text, with the bytes either side of each digit range and others: a
        // digit where a hyphen belongs, or anything but a hex digit where a digit belongs, is refused.
        let valid = Array(UUID().lowercasedText.utf8)
        let probes: [UInt8] = Array("/:@G`g-0aF ".utf8) + [0x00, 0x7F, 0x80, 0xFF]
        for place in valid.indices {
            let isHyphen = [8, 13, 18, 23].contains(place)
            for probe in probes {
                var text = valid
                text[place] = probe
                let expected = isHyphen ? probe == UInt8(ascii: "-") : Self.isHexDigit(probe)
                let parsed = text.withUnsafeBufferPointer { UUID(canonicalText: $0) }
                #expect((parsed != nil) == expected, "byte \(probe) at \(place)")
            }
        }
        // Foundation's parser on Linux takes these; the contract's `format: uuid` does not.
        for lax in ["01234567-89ab-cdef-0123-456789abcdef ", " 1234567-89ab-cdef-0123-456789abcdef",
                    "0123456-789ab-cdef-0123-456789abcdef", "01234567-89ab-cdef-0123-456789abcdef\n"] {
            #expect(UUID(canonicalText: lax) == nil, "\(lax)")
        }
    }
}
