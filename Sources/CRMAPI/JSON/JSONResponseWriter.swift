import Foundation
package import OpenAPIRuntime

/// Encodes an `Encodable` value as compact UTF-8 JSON straight into one growing byte buffer: no
/// intermediate tree or dictionaries. Members come out in the order the value encodes them; the
/// generated contract types encode their properties in the schema's order, so every response
/// lists its keys as the schema does (`id` first), the same every time.
///
/// Everything else is written as the runtime's `JSONEncoder` (swift-foundation, as configured by
/// `Router`) writes it, which `JSONWriterTests` checks on random values of every response schema:
/// - strings: `"` `\` escaped, `\b \t \n \f \r` short, other control characters `\u00xx`,
///   `/` as `\/` unless `escapingSlashes` is off, everything else as its UTF-8 bytes;
/// - integers in decimal; `Double`/`Float` as their shortest round-trip `description` without a
///   trailing `.0` (`1`, `0.1`, `1e+20`, `2.5e-07`); NaN and infinities are an `EncodingError`;
/// - `nil` through `encodeIfPresent` is no member at all, `encodeNil` is `null`;
/// - `Date` through the configured rule (`RFC3339DateTranscoder`'s bytes written directly);
///   `Data` as base64, `Decimal` by its description, `URL` as its absolute string;
/// - a value that encodes nothing is `{}`; a second `container(keyedBy:)` on the same encoder
///   continues the same object (allOf-style types encode two parts into one object).
///
/// Free-form objects (`OpenAPIObjectContainer`, `OpenAPIValueContainer` holding an object) have
/// no schema order; their members are written in sorted order, so they too are the same every
/// time. A member encoded twice under the same key is written twice (`JSONEncoder` keeps the
/// last); the generated types never do that.
///
/// It is streaming: a nested container is closed when its parent writes its next element or
/// when the value that owns it returns from `encode(to:)`. Writing to a container after a
/// sibling or its parent has moved on (which no synthesized or generated `encode(to:)` does)
/// throws instead of producing broken JSON.
package struct JSONResponseWriter: Sendable {
    /// How dates are written.
    package enum Dates: Sendable {
        /// `RFC3339DateTranscoder`: `2026-11-23T08:00:00Z`, written without a String.
        case rfc3339
        /// Any other transcoder: its string, escaped like every string.
        case transcoder(any DateTranscoder)
    }

    var escapingSlashes = true
    var dates = Dates.rfc3339
    /// The buffer's starting capacity.
    var initialCapacity = 1024

    /// The writer that encodes as the runtime would with `configuration`; `nil` for output options
    /// it does not implement (pretty printing, sorted keys).
    init?(configuration: Configuration) {
        let supported: JSONEncodingOptions = [.withoutEscapingSlashes]
        guard configuration.jsonEncodingOptions.isSubset(of: supported) else { return nil }
        escapingSlashes = !configuration.jsonEncodingOptions.contains(.withoutEscapingSlashes)
        if configuration.dateTranscoder is RFC3339DateTranscoder {
            dates = .rfc3339
        } else {
            dates = .transcoder(configuration.dateTranscoder)
        }
    }

    package init(escapingSlashes: Bool = true, dates: Dates = .rfc3339, initialCapacity: Int = 1024) {
        self.escapingSlashes = escapingSlashes
        self.dates = dates
        self.initialCapacity = initialCapacity
    }

    /// The JSON text of `value`.
    package func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let sink = JSONSink(escapingSlashes: escapingSlashes, dates: dates, capacity: initialCapacity)
        try sink.writeValue(value, depth: 0)
        sink.settle(0)
        if let misuse = sink.misuse {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: misuse))
        }
        return sink.bytes
    }
}

// MARK: - The buffer and the open containers

/// One open JSON value of the streaming writer: an object or array being written, or the slot a
/// value's `encode(to:)` has not yet filled.
private struct Frame {
    enum Kind: UInt8 {
        /// Nothing written yet: becomes an object, an array or a single value (`{}` if it stays empty).
        case slot
        case object
        case array
        /// Filled by a single value.
        case done
    }

    var kind: Kind
    /// Which encoder or container may write into it.
    let owner: Int
    /// Members or elements written so far.
    var count = 0
    /// The key of the member being written (for `codingPath`).
    var key: (any CodingKey)?
}

/// The shared state of one encoding: the bytes and the stack of open values.
///
/// Its mutable properties opt out of dynamic exclusivity checks (which took about a third of the
/// writer's time in a profile): one sink serves one `encode` call on one thread, and no access to
/// a property is held open across a call that touches the same property.
private final class JSONSink {
    @exclusivity(unchecked) var bytes: [UInt8] = []
    @exclusivity(unchecked) var frames: [Frame] = []
    @exclusivity(unchecked) var misuse: String?
    @exclusivity(unchecked) private var lastOwner = 0
    let escapingSlashes: Bool
    let dates: JSONResponseWriter.Dates

    init(escapingSlashes: Bool, dates: JSONResponseWriter.Dates, capacity: Int) {
        self.escapingSlashes = escapingSlashes
        self.dates = dates
        bytes.reserveCapacity(capacity)
        frames.reserveCapacity(8)
    }

    func newOwner() -> Int {
        lastOwner &+= 1
        return lastOwner
    }

    /// Closes every open value deeper than `depth`.
    @inline(__always)
    func settle(_ depth: Int) {
        while frames.count > depth {
            switch frames.removeLast().kind {
            case .slot:
                bytes.append(UInt8(ascii: "{"))
                bytes.append(UInt8(ascii: "}"))
            case .object: bytes.append(UInt8(ascii: "}"))
            case .array: bytes.append(UInt8(ascii: "]"))
            case .done: break
            }
        }
    }

    /// Starts the next member or element of the container at `depth` (closing whatever is open
    /// below it) and writes the separator.
    @inline(__always)
    func nextElement(_ depth: Int, owner: Int, kind: Frame.Kind) throws {
        settle(depth + 1)
        guard frames.count == depth + 1, frames[depth].owner == owner, frames[depth].kind == kind, misuse == nil else {
            throw misused("a container was written to after its value had moved on")
        }
        if frames[depth].count > 0 { bytes.append(UInt8(ascii: ",")) }
        frames[depth].count += 1
    }

    func misused(_ what: String) -> EncodingError {
        if misuse == nil { misuse = what }
        return EncodingError.invalidValue(what, .init(codingPath: path(frames.count), debugDescription: what))
    }

    /// Turns the slot at `depth` owned by `owner` into an object or array (or continues the one it
    /// already is: a second container of the same kind from the same encoder).
    func open(_ depth: Int, owner: Int, as kind: Frame.Kind) {
        settle(depth + 1)
        guard frames.count == depth + 1, frames[depth].owner == owner, misuse == nil else {
            _ = misused("an encoder was asked for a container after its value had moved on")
            return
        }
        switch frames[depth].kind {
        case .slot:
            frames[depth].kind = kind
            bytes.append(kind == .object ? UInt8(ascii: "{") : UInt8(ascii: "["))
        case .object where kind == .object:
            break
        default:
            _ = misused("an encoder was asked for a second container of another kind")
        }
    }

    /// Marks the slot at `depth` as filled by a single value.
    @inline(__always)
    func fill(_ depth: Int, owner: Int) throws {
        settle(depth + 1)
        guard frames.count == depth + 1, frames[depth].owner == owner, frames[depth].kind == .slot, misuse == nil else {
            throw misused("a single value container was written to twice or too late")
        }
        frames[depth].kind = .done
    }

    func push(_ kind: Frame.Kind) -> Int {
        let owner = newOwner()
        frames.append(Frame(kind: kind, owner: owner))
        switch kind {
        case .object: bytes.append(UInt8(ascii: "{"))
        case .array: bytes.append(UInt8(ascii: "["))
        case .slot, .done: break
        }
        return owner
    }

    func path(_ depth: Int) -> [any CodingKey] {
        var path: [any CodingKey] = []
        for frame in frames.prefix(depth) {
            switch frame.kind {
            case .object: if let key = frame.key { path.append(key) }
            case .array: path.append(IndexKey(frame.count - 1))
            case .slot, .done: break
            }
        }
        return path
    }

    // MARK: Values

    /// Writes `value` as the value at `depth` (which must not be open yet).
    func writeValue<T: Encodable>(_ value: T, depth: Int) throws {
        if try writeKnown(value, depth: depth) { return }
        let owner = push(.slot)
        try value.encode(to: StreamingEncoder(sink: self, depth: depth, owner: owner))
        settle(depth)
    }

    /// Writes the types the writer knows itself; false for anything else.
    @inline(__always)
    func writeKnown<T: Encodable>(_ value: T, depth: Int) throws -> Bool {
        // Metatype comparisons: a pointer compare each, and `unsafeBitCast` of a value to its own type.
        if T.self == String.self {
            writeString(unsafeBitCast(value, to: String.self))
        } else if T.self == Date.self {
            try writeDate(unsafeBitCast(value, to: Date.self), depth: depth)
        } else if T.self == Int.self {
            writeInteger(unsafeBitCast(value, to: Int.self))
        } else if T.self == Bool.self {
            writeBool(unsafeBitCast(value, to: Bool.self))
        } else if T.self == [String].self {
            // Tag lists and the like: no container per list.
            writeStrings(unsafeBitCast(value, to: [String].self))
        } else if T.self == Double.self {
            try writeFloat(unsafeBitCast(value, to: Double.self), depth: depth)
        } else if T.self == Int64.self {
            writeInteger(unsafeBitCast(value, to: Int64.self))
        } else if T.self == Int32.self {
            writeInteger(unsafeBitCast(value, to: Int32.self))
        } else if T.self == Float.self {
            try writeFloat(unsafeBitCast(value, to: Float.self), depth: depth)
        } else if T.self == OpenAPIObjectContainer.self {
            try writeObject(unsafeBitCast(value, to: OpenAPIObjectContainer.self).value, depth: depth)
        } else if T.self == OpenAPIValueContainer.self,
            let object = unsafeBitCast(value, to: OpenAPIValueContainer.self).value as? [String: (any Sendable)?]
        {
            try writeObject(object, depth: depth)
        } else if T.self == Data.self {
            writeString(unsafeBitCast(value, to: Data.self).base64EncodedString())
        } else if T.self == Decimal.self {
            writeRaw(unsafeBitCast(value, to: Decimal.self).description)
        } else if T.self == URL.self {
            writeString(unsafeBitCast(value, to: URL.self).absoluteString)
        } else {
            return false
        }
        return true
    }

    /// A free-form object: members in sorted order (there is no schema order to follow).
    func writeObject(_ object: [String: (any Sendable)?], depth: Int) throws {
        let owner = push(.object)
        for key in object.keys.sorted() {
            try nextElement(depth, owner: owner, kind: .object)
            frames[depth].key = IndexKey(key)
            writeKey(key)
            try writeValue(try OpenAPIValueContainer(unvalidatedValue: object[key] ?? nil), depth: depth + 1)
        }
        settle(depth)
    }

    func writeStrings(_ strings: [String]) {
        bytes.append(UInt8(ascii: "["))
        for (index, string) in strings.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            writeString(string)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    @inline(__always)
    func writeKey(_ key: String) {
        writeString(key)
        bytes.append(UInt8(ascii: ":"))
    }

    @inline(__always)
    func writeBool(_ value: Bool) {
        bytes.append(contentsOf: value ? Self.trueBytes : Self.falseBytes)
    }

    func writeNull() {
        bytes.append(contentsOf: Self.nullBytes)
    }

    private static let trueBytes: [UInt8] = Array("true".utf8)
    private static let falseBytes: [UInt8] = Array("false".utf8)
    private static let nullBytes: [UInt8] = Array("null".utf8)

    /// Decimal digits, most significant first, without a String.
    func writeInteger<I: FixedWidthInteger>(_ value: I) {
        var magnitude = UInt64(truncatingIfNeeded: value.magnitude)
        if I.isSigned && value < 0 { bytes.append(UInt8(ascii: "-")) }
        if I.bitWidth > 64 {
            writeRaw(value.magnitude.description)
            return
        }
        let start = bytes.count
        repeat {
            bytes.append(UInt8(truncatingIfNeeded: 48 &+ magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        bytes[start...].reverse()
    }

    /// `description` without a trailing `.0`, as `JSONEncoder` writes floating-point numbers.
    func writeFloat<F: BinaryFloatingPoint & CustomStringConvertible>(_ value: F, depth: Int) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: path(depth), debugDescription: "Unable to encode \(value) directly in JSON."))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        writeRaw(text)
    }

    func writeDate(_ date: Date, depth: Int) throws {
        switch dates {
        case .rfc3339:
            bytes.append(UInt8(ascii: "\""))
            RFC3339DateTranscoder.write(date, into: &bytes)
            bytes.append(UInt8(ascii: "\""))
        case .transcoder(let transcoder):
            writeString(try transcoder.encode(date))
        }
    }

    /// Text that needs no escaping (numbers).
    func writeRaw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// A quoted, escaped string.
    func writeString(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        if string.utf8.withContiguousStorageIfAvailable({ writeEscaped($0) }) == nil {
            Array(string.utf8).withUnsafeBufferPointer { writeEscaped($0) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private func writeEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        var index = 0
        let slash: UInt8 = escapingSlashes ? UInt8(ascii: "/") : UInt8(ascii: "\"")
        while index < utf8.count {
            let byte = utf8[index]
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte != slash {
                index += 1
                continue
            }
            if runStart < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index])) }
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(byte)
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0C: bytes.append(UInt8(ascii: "f"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            default:
                bytes.append(contentsOf: [
                    UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), Self.hex[Int(byte >> 4)], Self.hex[Int(byte & 0xF)],
                ])
            }
            index += 1
            runStart = index
        }
        if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count])) }
    }
}

/// A key made of a string or an array index (paths in errors; free-form members).
private struct IndexKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) {
        stringValue = string
        intValue = nil
    }
    init(_ index: Int) {
        stringValue = "Index \(index)"
        intValue = index
    }
    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { self.init(intValue) }
}

// MARK: - The Encoder and its containers

private struct StreamingEncoder: Encoder {
    let sink: JSONSink
    /// The frame this encoder's value occupies.
    let depth: Int
    let owner: Int

    var codingPath: [any CodingKey] { sink.path(depth) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        sink.open(depth, owner: owner, as: .object)
        return KeyedEncodingContainer(KeyedWriter<Key>(sink: sink, depth: depth, owner: owner))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        sink.open(depth, owner: owner, as: .array)
        return UnkeyedWriter(sink: sink, depth: depth, owner: owner)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueWriter(sink: sink, depth: depth, owner: owner)
    }
}

private struct KeyedWriter<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let sink: JSONSink
    let depth: Int
    let owner: Int

    var codingPath: [any CodingKey] { sink.path(depth) }

    /// Separator and `"key":`.
    @inline(__always)
    private func member(_ key: Key) throws {
        try sink.nextElement(depth, owner: owner, kind: .object)
        sink.writeKey(key.stringValue)
    }

    mutating func encodeNil(forKey key: Key) throws {
        try member(key)
        sink.writeNull()
    }
    mutating func encode(_ value: Bool, forKey key: Key) throws {
        try member(key)
        sink.writeBool(value)
    }
    mutating func encode(_ value: String, forKey key: Key) throws {
        try member(key)
        sink.writeString(value)
    }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        try member(key)
        sink.frames[depth].key = key
        try sink.writeFloat(value, depth: depth + 1)
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        try member(key)
        sink.frames[depth].key = key
        try sink.writeFloat(value, depth: depth + 1)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws {
        try member(key)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: Int8, forKey key: Key) throws {
        try member(key)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: Int16, forKey key: Key) throws {
        try member(key)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: Int32, forKey key: Key) throws {
        try member(key)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: Int64, forKey key: Key) throws {
        try member(key)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: UInt, forKey key: Key) throws {
        try member(key)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: UInt8, forKey key: Key) throws {
        try member(key)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: UInt16, forKey key: Key) throws {
        try member(key)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: UInt32, forKey key: Key) throws {
        try member(key)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: UInt64, forKey key: Key) throws {
        try member(key)
        sink.writeInteger(value)
    }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try member(key)
        sink.frames[depth].key = key
        try sink.writeValue(value, depth: depth + 1)
    }

    // `encodeIfPresent` for each primitive type, so that an optional member is not sent through
    // the protocol's generic default (metadata lookups that showed up in profiles of a page of 50).
    // Other types take that default, which is what an override here would do.
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        do {
            try member(key)
            sink.frames[depth].key = key
        } catch {
            return KeyedEncodingContainer(KeyedWriter<NestedKey>(sink: sink, depth: depth + 1, owner: 0))
        }
        let nested = sink.push(.object)
        return KeyedEncodingContainer(KeyedWriter<NestedKey>(sink: sink, depth: depth + 1, owner: nested))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        do {
            try member(key)
            sink.frames[depth].key = key
        } catch {
            return UnkeyedWriter(sink: sink, depth: depth + 1, owner: 0)
        }
        return UnkeyedWriter(sink: sink, depth: depth + 1, owner: sink.push(.array))
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(named: IndexKey("super"))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        superEncoder(named: key)
    }

    private func superEncoder(named key: any CodingKey) -> any Encoder {
        do {
            try sink.nextElement(depth, owner: owner, kind: .object)
            sink.writeKey(key.stringValue)
            sink.frames[depth].key = key
        } catch {
            return StreamingEncoder(sink: sink, depth: depth + 1, owner: 0)
        }
        return StreamingEncoder(sink: sink, depth: depth + 1, owner: sink.push(.slot))
    }
}

private struct UnkeyedWriter: UnkeyedEncodingContainer {
    let sink: JSONSink
    let depth: Int
    let owner: Int

    var codingPath: [any CodingKey] { sink.path(depth) }
    var count: Int {
        depth < sink.frames.count && sink.frames[depth].owner == owner ? sink.frames[depth].count : 0
    }

    @inline(__always)
    private func element() throws {
        try sink.nextElement(depth, owner: owner, kind: .array)
    }

    mutating func encodeNil() throws {
        try element()
        sink.writeNull()
    }
    mutating func encode(_ value: Bool) throws {
        try element()
        sink.writeBool(value)
    }
    mutating func encode(_ value: String) throws {
        try element()
        sink.writeString(value)
    }
    mutating func encode(_ value: Double) throws {
        try element()
        try sink.writeFloat(value, depth: depth + 1)
    }
    mutating func encode(_ value: Float) throws {
        try element()
        try sink.writeFloat(value, depth: depth + 1)
    }
    mutating func encode(_ value: Int) throws {
        try element()
        sink.writeInteger(value)
    }
    mutating func encode(_ value: Int8) throws {
        try element()
        sink.writeInteger(value)
    }
    mutating func encode(_ value: Int16) throws {
        try element()
        sink.writeInteger(value)
    }
    mutating func encode(_ value: Int32) throws {
        try element()
        sink.writeInteger(value)
    }
    mutating func encode(_ value: Int64) throws {
        try element()
        sink.writeInteger(value)
    }
    mutating func encode(_ value: UInt) throws {
        try element()
        sink.writeInteger(value)
    }
    mutating func encode(_ value: UInt8) throws {
        try element()
        sink.writeInteger(value)
    }
    mutating func encode(_ value: UInt16) throws {
        try element()
        sink.writeInteger(value)
    }
    mutating func encode(_ value: UInt32) throws {
        try element()
        sink.writeInteger(value)
    }
    mutating func encode(_ value: UInt64) throws {
        try element()
        sink.writeInteger(value)
    }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try element()
        try sink.writeValue(value, depth: depth + 1)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        do { try element() } catch {
            return KeyedEncodingContainer(KeyedWriter<NestedKey>(sink: sink, depth: depth + 1, owner: 0))
        }
        return KeyedEncodingContainer(KeyedWriter<NestedKey>(sink: sink, depth: depth + 1, owner: sink.push(.object)))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        do { try element() } catch { return UnkeyedWriter(sink: sink, depth: depth + 1, owner: 0) }
        return UnkeyedWriter(sink: sink, depth: depth + 1, owner: sink.push(.array))
    }

    mutating func superEncoder() -> any Encoder {
        do { try element() } catch { return StreamingEncoder(sink: sink, depth: depth + 1, owner: 0) }
        return StreamingEncoder(sink: sink, depth: depth + 1, owner: sink.push(.slot))
    }
}

private struct SingleValueWriter: SingleValueEncodingContainer {
    let sink: JSONSink
    let depth: Int
    let owner: Int

    var codingPath: [any CodingKey] { sink.path(depth) }

    mutating func encodeNil() throws {
        try sink.fill(depth, owner: owner)
        sink.writeNull()
    }
    mutating func encode(_ value: Bool) throws {
        try sink.fill(depth, owner: owner)
        sink.writeBool(value)
    }
    mutating func encode(_ value: String) throws {
        try sink.fill(depth, owner: owner)
        sink.writeString(value)
    }
    mutating func encode(_ value: Double) throws {
        try sink.fill(depth, owner: owner)
        try sink.writeFloat(value, depth: depth)
    }
    mutating func encode(_ value: Float) throws {
        try sink.fill(depth, owner: owner)
        try sink.writeFloat(value, depth: depth)
    }
    mutating func encode(_ value: Int) throws {
        try sink.fill(depth, owner: owner)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: Int8) throws {
        try sink.fill(depth, owner: owner)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: Int16) throws {
        try sink.fill(depth, owner: owner)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: Int32) throws {
        try sink.fill(depth, owner: owner)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: Int64) throws {
        try sink.fill(depth, owner: owner)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: UInt) throws {
        try sink.fill(depth, owner: owner)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: UInt8) throws {
        try sink.fill(depth, owner: owner)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: UInt16) throws {
        try sink.fill(depth, owner: owner)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: UInt32) throws {
        try sink.fill(depth, owner: owner)
        sink.writeInteger(value)
    }
    mutating func encode(_ value: UInt64) throws {
        try sink.fill(depth, owner: owner)
        sink.writeInteger(value)
    }
    mutating func encode<T: Encodable>(_ value: T) throws {
        // The value takes this container's slot: a known type is written here, anything else
        // encodes itself through this encoder (and may open an object or array in the slot).
        try sink.fill(depth, owner: owner)
        if try sink.writeKnown(value, depth: depth) { return }
        sink.frames[depth].kind = .slot
        try value.encode(to: StreamingEncoder(sink: sink, depth: depth, owner: owner))
    }
}
