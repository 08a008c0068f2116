/// Finds a member name given twice in one JSON object, anywhere in a body.
///
/// RFC 8259 leaves repeated names to the reader, and the two readers of a body disagree:
/// `ContractValidator`'s (`JSONValue.parse`) keeps the last value, the generated decoders
/// (`JSONDecoder`) keep the first. `{"children": 999, "children": 1}` would be checked
/// as 1 and stored as 999, so such a body is refused (400) before anything else reads it.
///
/// One pass over the bytes, without recursion (any depth) and without building values: names
/// are compared where they lie in the body, unless they contain escapes (then their decoded
/// bytes are kept in one side buffer), so `"a"` and `"\u0061"` are the same name. Names with
/// non-ASCII characters are compared as Swift strings, as both readers key their objects by
/// `String` (canonically equivalent spellings are one key). Objects with many members switch
/// from a linear search to a set. A body that is not well-formed JSON is reported as having no
/// repeated name: the readers behind this check report what is wrong with it.
enum JSONMemberCheck {
    /// The path of the first repeated member (`customer.children`, `items[2].name`), or nil
    /// when every object's names are distinct or the body is not well-formed JSON.
    static func firstRepeatedMember(in bytes: [UInt8]) -> String? {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(input: buffer)
            return scanner.run()
        }
    }
}

private struct Scanner: JSONTokens {
    /// A member name: `count` bytes at `start`, in the body or (when it had escapes) in `decoded`.
    struct Name {
        var start: Int
        var count: Int
        var inBody: Bool
        var ascii: Bool
    }

    /// An open object or array.
    struct Frame {
        var isObject: Bool
        /// Where this frame's names begin in `names` and `decoded` (for an array: what its
        /// enclosing objects had recorded when it opened).
        var firstName: Int
        var firstDecoded: Int
        /// Arrays: the index of the current element.
        var index = 0
        /// Objects with many members: their names as strings.
        var seen: Set<String>?
    }

    /// Above this many members an object's names go into a set (a linear search is quicker below).
    static let linearLimit = 16

    let input: UnsafeBufferPointer<UInt8>
    var position = 0
    var frames: [Frame] = []
    var names: [Name] = []
    var decoded: [UInt8] = []
    /// The first repeated name, reported once the whole body has proved well-formed.
    var repeated: String?

    init(input: UnsafeBufferPointer<UInt8>) {
        self.input = input
    }

    mutating func run() -> String? {
        skipByteOrderMark()
        var expectingValue = true
        while true {
            skipWhitespace()
            if expectingValue {
                guard position < input.count else { return nil }
                switch input[position] {
                case UInt8(ascii: "{"):
                    position += 1
                    frames.append(Frame(isObject: true, firstName: names.count, firstDecoded: decoded.count))
                    skipWhitespace()
                    if position < input.count, input[position] == UInt8(ascii: "}") {
                        position += 1
                        closeObject()
                        expectingValue = false
                    } else {
                        guard member() else { return nil }
                    }
                    continue
                case UInt8(ascii: "["):
                    position += 1
                    frames.append(Frame(isObject: false, firstName: names.count, firstDecoded: decoded.count))
                    skipWhitespace()
                    if position < input.count, input[position] == UInt8(ascii: "]") {
                        position += 1
                        frames.removeLast()
                        expectingValue = false
                    }
                    continue
                case UInt8(ascii: "\""):
                    guard skipString() else { return nil }
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    guard skipNumber() else { return nil }
                case UInt8(ascii: "t"):
                    guard skipLiteral("true") else { return nil }
                case UInt8(ascii: "f"):
                    guard skipLiteral("false") else { return nil }
                case UInt8(ascii: "n"):
                    guard skipLiteral("null") else { return nil }
                default:
                    return nil
                }
                expectingValue = false
            } else {
                guard let frame = frames.last else {
                    // The root value is complete: only whitespace may follow.
                    return position == input.count ? repeated : nil
                }
                guard position < input.count else { return nil }
                let byte = input[position]
                position += 1
                if byte == UInt8(ascii: ",") {
                    if frame.isObject {
                        skipWhitespace()
                        guard member() else { return nil }
                    } else {
                        frames[frames.count - 1].index += 1
                    }
                    expectingValue = true
                } else if frame.isObject, byte == UInt8(ascii: "}") {
                    closeObject()
                } else if !frame.isObject, byte == UInt8(ascii: "]") {
                    frames.removeLast()
                } else {
                    return nil
                }
            }
        }
    }

    // MARK: Members

    /// Reads `"name" :` in the innermost object and records the name; false when malformed.
    mutating func member() -> Bool {
        guard position < input.count, input[position] == UInt8(ascii: "\""), let name = readName() else { return false }
        if repeated == nil { record(name) } else { names.append(name) }
        skipWhitespace()
        guard position < input.count, input[position] == UInt8(ascii: ":") else { return false }
        position += 1
        return true
    }

    mutating func closeObject() {
        let frame = frames.removeLast()
        names.removeSubrange(frame.firstName...)
        decoded.removeSubrange(frame.firstDecoded...)
    }

    /// Adds `name` to the innermost object, noting the first repeated name.
    mutating func record(_ name: Name) {
        let top = frames.count - 1
        let first = frames[top].firstName
        if frames[top].seen == nil, names.count - first < Self.linearLimit {
            for index in first..<names.count where same(names[index], name) {
                repeated = path(to: name)
                break
            }
            names.append(name)
            return
        }
        if frames[top].seen == nil {
            var seen = Set<String>(minimumCapacity: 2 * Self.linearLimit)
            for index in first..<names.count { seen.insert(text(names[index])) }
            frames[top].seen = seen
        }
        if !frames[top].seen!.insert(text(name)).inserted { repeated = path(to: name) }
        names.append(name)
    }

    func same(_ a: Name, _ b: Name) -> Bool {
        if a.ascii, b.ascii {
            guard a.count == b.count else { return false }
            return withBytes(a) { x in withBytes(b) { y in x.elementsEqual(y) } }
        }
        return text(a) == text(b)
    }

    func withBytes<T>(_ name: Name, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        if name.inBody { return body(UnsafeBufferPointer(rebasing: input[name.start..<name.start + name.count])) }
        return decoded.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[name.start..<name.start + name.count])) }
    }

    func text(_ name: Name) -> String {
        withBytes(name) { String(decoding: $0, as: UTF8.self) }
    }

    /// The JSON path of `name` in the innermost object (built only for a repeated name).
    func path(to name: Name) -> String {
        var text = ""
        for (depth, frame) in frames.enumerated() {
            if frame.isObject {
                // An outer object's current member is its last name before the next frame opened.
                let key = depth == frames.count - 1 ? name : names[frames[depth + 1].firstName - 1]
                if !text.isEmpty { text += "." }
                text += self.text(key)
            } else {
                text += "[\(frame.index)]"
            }
        }
        return text
    }

    // MARK: Tokens

    /// Reads a string at `position` (its opening quote) as a name: where it lies in the body, or
    /// its decoded bytes in `decoded` when it has escapes. Nil when malformed.
    mutating func readName() -> Name? {
        position += 1
        let start = position
        var ascii = true
        while position < input.count {
            let byte = input[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return Name(start: start, count: position - 1 - start, inBody: true, ascii: ascii)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { return nil }
            if byte >= 0x80 { ascii = false }
            position += 1
        }
        guard position < input.count else { return nil }
        // Escapes: decode the whole name into `decoded`.
        let decodedStart = decoded.count
        decoded.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<position]))
        while position < input.count {
            let byte = input[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                let count = decoded.count - decodedStart
                for index in decodedStart..<decoded.count where decoded[index] >= 0x80 { ascii = false }
                return Name(start: decodedStart, count: count, inBody: false, ascii: ascii)
            case UInt8(ascii: "\\"):
                // A lone surrogate reads as U+FFFD, as String does.
                guard let scalar = readEscape(loneSurrogates: .replaced) else { return nil }
                decoded.append(contentsOf: UTF8.encode(scalar)!)
            default:
                if byte < 0x20 { return nil }
                decoded.append(byte)
            }
        }
        return nil
    }

    /// Skips a string value (its opening quote at `position`); false when malformed.
    mutating func skipString() -> Bool {
        position += 1
        while position < input.count {
            let byte = input[position]
            position += 1
            if byte == UInt8(ascii: "\"") { return true }
            if byte < 0x20 { return false }
            if byte == UInt8(ascii: "\\") {
                guard position < input.count else { return false }
                let escaped = input[position]
                position += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    continue
                case UInt8(ascii: "u"):
                    guard hex4() != nil else { return false }
                default:
                    return false
                }
            }
        }
        return false
    }
}
