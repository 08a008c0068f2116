public import CRMDomain
import Crypto
import Foundation
public import PostgresClient
import Synchronization

/// List cursors as clients see them: opaque and tamper-evident. A cursor is its sort name and
/// values, signed with HMAC-SHA256 under the service's `cursor_signing` secret (kept in the
/// database, so every process of the service reads the same key), base64url. A cursor that does
/// not carry this service's signature is refused before any of it is read.
public final class CursorCodec: Sendable {
    let pool: PostgresPool
    /// The HMAC with the key already mixed in, copied for every cursor: setting up the key (two
    /// SHA-256 blocks and a key object) was a third of the cost of signing a cursor.
    private let signer = Mutex<Signer?>(nil)

    /// An HMAC that has absorbed the key and nothing else. Never changed after it is made; each use
    /// works on its own copy (a value type), so sharing it between threads is safe.
    private final class Signer: @unchecked Sendable {
        let keyed: HMAC<SHA256>
        init(key: [UInt8]) { keyed = HMAC<SHA256>(key: SymmetricKey(data: key)) }

        func code(for payload: [UInt8]) -> [UInt8] {
            var hmac = keyed
            hmac.update(data: payload)
            return Array(hmac.finalize())
        }
    }

    /// Bytes of the signature kept in a cursor (128 bits).
    static let tagLength = 16

    public init(pool: PostgresPool) { self.pool = pool }

    /// A codec with a given key (tests, tools that do not talk to the database).
    public init(pool: PostgresPool, key: [UInt8]) {
        self.pool = pool
        self.signer.withLock { $0 = Signer(key: key) }
    }

    public func encode(_ cursor: Cursor) async throws -> String {
        let payload = Self.payload(cursor)
        let tag = try await signingKey().code(for: payload)
        return Self.base64URL(payload + tag.prefix(Self.tagLength))
    }

    /// The cursor `text` names; `CursorError` for anything this service did not sign.
    public func decode(_ text: String) async throws -> Cursor {
        guard text.utf8.count <= 2048, let bytes = Self.fromBase64URL(text), bytes.count > Self.tagLength else {
            throw CursorError()
        }
        let payload = Array(bytes.dropLast(Self.tagLength))
        let tag = Array(bytes.suffix(Self.tagLength))
        let expected = try await signingKey().code(for: payload).prefix(Self.tagLength)
        // Constant-time comparison.
        var difference: UInt8 = 0
        for (a, b) in zip(tag, expected) { difference |= a ^ b }
        guard difference == 0, let cursor = Self.cursor(payload) else { throw CursorError() }
        return cursor
    }

    private func signingKey() async throws -> Signer {
        if let signer = signer.withLock({ $0 }) { return signer }
        guard let row = try await pool.queryFirst("SELECT value FROM service_secrets WHERE name = 'cursor_signing'") else {
            throw CursorCodecError.noSecret
        }
        let loaded = Signer(key: try row.decode(0, as: PostgresBytes.self).bytes)
        signer.withLock { $0 = loaded }
        return loaded
    }

    enum CursorCodecError: Error, CustomStringConvertible {
        case noSecret
        var description: String { "the database has no cursor_signing secret (run `crm migrate`)" }
    }

    // MARK: Payload: the sort and the values, each prefixed with its UTF-8 length (two bytes).

    static func payload(_ cursor: Cursor) -> [UInt8] {
        var bytes: [UInt8] = []
        for part in [cursor.sort] + cursor.values {
            let utf8 = Array(part.utf8.prefix(Int(UInt16.max)))
            bytes.append(UInt8(utf8.count >> 8))
            bytes.append(UInt8(utf8.count & 0xFF))
            bytes += utf8
        }
        return bytes
    }

    static func cursor(_ payload: [UInt8]) -> Cursor? {
        var parts: [String] = []
        var index = 0
        while index < payload.count {
            guard index + 2 <= payload.count else { return nil }
            let length = Int(payload[index]) << 8 | Int(payload[index + 1])
            index += 2
            guard index + length <= payload.count else { return nil }
            parts.append(String(decoding: payload[index..<index + length], as: UTF8.self))
            index += length
        }
        guard let sort = parts.first else { return nil }
        return Cursor(sort: sort, values: Array(parts.dropFirst()))
    }

    private static let base64URLAlphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Base64url without padding (RFC 4648 section 5), written straight from the bytes: through
    /// `Data.base64EncodedData` and a second pass it was a third of the cost of a cursor.
    static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = base64URLAlphabet
        var text: [UInt8] = []
        text.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= bytes.count {
            let group = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            text.append(alphabet[Int(group >> 18 & 63)])
            text.append(alphabet[Int(group >> 12 & 63)])
            text.append(alphabet[Int(group >> 6 & 63)])
            text.append(alphabet[Int(group & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let group = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            text.append(alphabet[Int(group >> 18 & 63)])
            text.append(alphabet[Int(group >> 12 & 63)])
            if rest == 2 { text.append(alphabet[Int(group >> 6 & 63)]) }
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The bytes of unpadded base64url text; nil for any other character.
    static func fromBase64URL(_ text: String) -> [UInt8]? {
        var standard: [UInt8] = []
        standard.reserveCapacity(text.utf8.count + 3)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                standard.append(byte)
            case UInt8(ascii: "-"): standard.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): standard.append(UInt8(ascii: "/"))
            default: return nil
            }
        }
        while standard.count % 4 != 0 { standard.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(standard)).map(Array.init)
    }
}
