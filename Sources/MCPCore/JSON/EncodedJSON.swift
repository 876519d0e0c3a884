// SPDX-License-Identifier: Apache-2.0

/// One JSON value already in wire form: checked against RFC 8259 (grammar, UTF-8, bounded nesting) and compacted.
///
/// It exists so a backend document the broker does not reshape can travel to the client without being parsed
/// into a ``JSONValue`` tree and written again: for a 100 KB REST response that tree costs thousands of
/// allocations and hash insertions, while checking and compacting is one pass and a few bulk copies.
/// Compacting matters too: stdio frames messages by newline and SSE by line, so a pretty-printed document
/// must lose its insignificant whitespace before it can be embedded.
///
/// Unlike ``JSONParser`` it does not refuse duplicate object keys: the broker takes no decision on the
/// document's content, it only relays it.
public struct EncodedJSON: Sendable, Equatable {
    /// The shape of the top-level value.
    public enum Kind: Sendable, Equatable {
        case object, array, scalar
    }

    /// Compact UTF-8 text of the value.
    public let bytes: [UInt8]
    /// The top-level value's shape (MCP requires `structuredContent` to be an object).
    public let kind: Kind

    init(bytes: [UInt8], kind: Kind) {
        self.bytes = bytes
        self.kind = kind
    }

    /// Checks `input` as exactly one JSON value (surrounding whitespace allowed) and returns its compact form.
    /// - Throws: ``JSONParseError`` naming the byte offset, for anything that is not strict JSON in UTF-8.
    public static func validating(_ input: [UInt8], maxDepth: Int = 64) throws(JSONParseError) -> EncodedJSON {
        var kind = Kind.scalar
        var compacted = false
        var failure: JSONParseError?
        // The compact text can only be shorter, so one uninitialized buffer of the input's size holds it; runs are
        // copied into it with memcpy rather than appended (a pretty-printed document has a run per line).
        let output = input.withUnsafeBufferPointer { buffer in
            [UInt8](unsafeUninitializedCapacity: buffer.count) { out, written in
                var scanner = Compactor(input: buffer, output: out, maxDepth: maxDepth)
                do throws(JSONParseError) {
                    kind = try scanner.document()
                } catch {
                    failure = error
                }
                compacted = scanner.compacted
                written = failure == nil && compacted ? scanner.written : 0
            }
        }
        if let failure { throw failure }
        // Already compact (the usual machine-written response): share the input, copy nothing.
        return EncodedJSON(bytes: compacted ? output : input, kind: kind)
    }

    /// `{"<key>":<this value>}`: wraps an array or scalar so it can be a tool's `structuredContent`.
    public func wrapped(in key: String) -> EncodedJSON {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + key.utf8.count + 8)
        out.append(UInt8(ascii: "{"))
        JSONWriter.write(.string(key), into: &out)
        out.append(UInt8(ascii: ":"))
        out.append(contentsOf: bytes)
        out.append(UInt8(ascii: "}"))
        return EncodedJSON(bytes: out, kind: .object)
    }

    /// At most `limit` bytes of the text, cut on a character boundary, with "…" when something was cut:
    /// a readable preview for the model next to the full structured value.
    public func preview(limit: Int) -> String { Self.preview(of: bytes, limit: limit) }

    /// ``preview(limit:)`` for any UTF-8 JSON text.
    public static func preview(of bytes: [UInt8], limit: Int) -> String {
        guard bytes.count > limit else { return String(decoding: bytes, as: UTF8.self) }
        var end = max(0, limit)
        // Back off continuation bytes (10xxxxxx) so no code point is split.
        while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return String(decoding: bytes[..<end], as: UTF8.self) + "…"
    }

    /// The value as a tree, for callers off the hot path (tests, the CLI); `nil` when a key repeats, which the
    /// stricter tree parser refuses.
    public func decoded(maxDepth: Int = 512) -> JSONValue? {
        try? JSONParser.parse(bytes, limits: .init(maxDepth: maxDepth, rejectNUL: false))
    }
}

/// Checks one value; when whitespace separates tokens it writes the compact text to `output` by copying the
/// runs between whitespace in bulk, so a compact document is never copied at all.
private struct Compactor {
    let input: UnsafeBufferPointer<UInt8>
    /// At least `input.count` bytes; the first `written` are the compact text so far.
    let output: UnsafeMutableBufferPointer<UInt8>
    let maxDepth: Int
    var index = 0
    var written = 0
    /// Start of the input not yet copied to `output`.
    var runStart = 0
    /// Whether any whitespace was dropped (otherwise `output` is unused).
    var compacted = false

    init(input: UnsafeBufferPointer<UInt8>, output: UnsafeMutableBufferPointer<UInt8>, maxDepth: Int) {
        self.input = input
        self.output = output
        self.maxDepth = maxDepth
    }

    /// Exactly one value with optional surrounding whitespace; returns its shape.
    mutating func document() throws(JSONParseError) -> EncodedJSON.Kind {
        skipWhitespace()
        guard index < input.count else { throw fail("empty document") }
        let kind: EncodedJSON.Kind =
            switch input[index] {
            case UInt8(ascii: "{"): .object
            case UInt8(ascii: "["): .array
            default: .scalar
            }
        try value(depth: 0)
        skipWhitespace()
        if index != input.count { throw fail("unexpected data after the JSON value") }
        if compacted { flush(upTo: input.count) }
        return kind
    }

    func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: index, reason: reason) }

    mutating func skipWhitespace() {
        let start = index
        while index < input.count {
            let c = input[index]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { break }
            index += 1
        }
        guard index > start else { return }
        compacted = true
        flush(upTo: start)
        runStart = index
    }

    /// Copies the pending run `input[runStart..<end]` to the output in one memcpy.
    mutating func flush(upTo end: Int) {
        let count = end - runStart
        if count > 0, let source = input.baseAddress, let target = output.baseAddress {
            (target + written).update(from: source + runStart, count: count)
            written += count
        }
        runStart = end
    }

    mutating func value(depth: Int) throws(JSONParseError) {
        guard index < input.count else { throw fail("unexpected end of input") }
        switch input[index] {
        case UInt8(ascii: "{"): try container(depth: depth + 1, close: UInt8(ascii: "}"), keyed: true)
        case UInt8(ascii: "["): try container(depth: depth + 1, close: UInt8(ascii: "]"), keyed: false)
        case UInt8(ascii: "\""): try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        default: throw fail("unexpected character")
        }
    }

    mutating func literal(_ text: StaticString) throws(JSONParseError) {
        let n = text.utf8CodeUnitCount
        guard index + n <= input.count else { throw fail("unexpected end of input") }
        for i in 0..<n where input[index + i] != text.utf8Start[i] { throw fail("invalid literal") }
        index += n
    }

    mutating func container(depth: Int, close: UInt8, keyed: Bool) throws(JSONParseError) {
        if depth > maxDepth { throw fail("nesting deeper than \(maxDepth)") }
        index += 1
        skipWhitespace()
        if index < input.count, input[index] == close {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            if keyed {
                guard index < input.count, input[index] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                try string()
                skipWhitespace()
                guard index < input.count, input[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                index += 1
                skipWhitespace()
            }
            try value(depth: depth)
            skipWhitespace()
            guard index < input.count else { throw fail("unexpected end of input") }
            let c = input[index]
            index += 1
            if c == UInt8(ascii: ",") { continue }
            if c == close { return }
            index -= 1
            throw fail(keyed ? "expected ',' or '}'" : "expected ',' or ']'")
        }
    }

    mutating func number() throws(JSONParseError) {
        if input[index] == UInt8(ascii: "-") { index += 1 }
        guard index < input.count else { throw fail("invalid number") }
        if input[index] == UInt8(ascii: "0") {
            index += 1
        } else if isDigit(input[index]) {
            digits()
        } else {
            throw fail("invalid number")
        }
        if index < input.count, input[index] == UInt8(ascii: ".") {
            index += 1
            guard index < input.count, isDigit(input[index]) else { throw fail("invalid number") }
            digits()
        }
        if index < input.count, input[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < input.count, input[index] == UInt8(ascii: "+") || input[index] == UInt8(ascii: "-") { index += 1 }
            guard index < input.count, isDigit(input[index]) else { throw fail("invalid number") }
            digits()
        }
    }

    mutating func digits() {
        while index < input.count, isDigit(input[index]) { index += 1 }
    }

    func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

    /// A string token: escapes checked, raw control characters refused, UTF-8 checked; kept as written.
    mutating func string() throws(JSONParseError) {
        index += 1
        while true {
            // The common run: printable ASCII without quote or backslash.
            while index < input.count {
                let c = input[index]
                guard c >= 0x20, c < 0x80, c != UInt8(ascii: "\""), c != UInt8(ascii: "\\") else { break }
                index += 1
            }
            guard index < input.count else { throw fail("unterminated string") }
            let c = input[index]
            if c == UInt8(ascii: "\"") {
                index += 1
                return
            }
            if c == UInt8(ascii: "\\") {
                try escape()
            } else if c < 0x20 {
                throw fail("control character in string")
            } else {
                try multiByte(lead: c)
            }
        }
    }

    mutating func escape() throws(JSONParseError) {
        index += 1
        guard index < input.count else { throw fail("unterminated string") }
        switch input[index] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 1
        case UInt8(ascii: "u"):
            guard index + 4 < input.count else { throw fail("unterminated string") }
            for i in 1...4 where !isHex(input[index + i]) { throw fail("invalid \\u escape") }
            index += 5
        default:
            throw fail("invalid escape")
        }
    }

    func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c | 0x20) &- UInt8(ascii: "a") < 6 }

    /// One UTF-8 sequence of 2–4 bytes (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
    mutating func multiByte(lead: UInt8) throws(JSONParseError) {
        let count: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: count = 2
        case 0xE0: (count, low) = (3, 0xA0)
        case 0xE1...0xEC, 0xEE...0xEF: count = 3
        case 0xED: (count, high) = (3, 0x9F)
        case 0xF0: (count, low) = (4, 0x90)
        case 0xF1...0xF3: count = 4
        case 0xF4: (count, high) = (4, 0x8F)
        default: throw fail("invalid UTF-8 in string")
        }
        guard index + count <= input.count else { throw fail("invalid UTF-8 in string") }
        let second = input[index + 1]
        guard second >= low, second <= high else { throw fail("invalid UTF-8 in string") }
        for i in 2..<count where input[index + i] & 0xC0 != 0x80 { throw fail("invalid UTF-8 in string") }
        index += count
    }
}
