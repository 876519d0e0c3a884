// SPDX-License-Identifier: Apache-2.0

/// Checks one JSON value; when whitespace separates tokens it writes the compact text to `output` by copying the
/// runs between whitespace in bulk, so a compact document is never copied at all.
///
/// String runs and whitespace runs are scanned eight bytes at a time (``ByteScan``) where eight bytes remain, and
/// byte by byte in the tail, so no load reaches past the input. The grammar, the error offsets and the reasons are
/// those of the byte-at-a-time scanner it replaced (the tests compare the two on randomised input).
struct Compactor {
    let input: UnsafeBufferPointer<UInt8>
    let base: UnsafePointer<UInt8>
    let count: Int
    /// The last offset where eight bytes can be loaded; negative when the input is shorter than eight bytes.
    let lastWord: Int
    /// At least `written + count` bytes when scanning starts: the output never gets ahead of the input.
    let output: UnsafeMutablePointer<UInt8>
    let maxDepth: Int
    var index = 0
    /// Bytes of `output` holding compact text so far.
    var written: Int
    /// Start of the input not yet copied to `output`.
    var runStart = 0
    /// Whether any whitespace was dropped (otherwise `output` holds only what the caller put there).
    var compacted = false

    /// `nil` for an empty input or output (nothing to scan; the caller reports the empty document).
    /// `written` is where the compact text starts in `output` (after a prefix the caller writes itself).
    init?(input: UnsafeBufferPointer<UInt8>, output: UnsafeMutableBufferPointer<UInt8>, written: Int = 0, maxDepth: Int) {
        guard let base = input.baseAddress, let out = output.baseAddress, written >= 0, output.count - written >= input.count else {
            return nil
        }
        self.input = input
        self.base = base
        self.count = input.count
        self.lastWord = input.count - 8
        self.output = out
        self.written = written
        self.maxDepth = maxDepth
    }

    /// Exactly one value with optional surrounding whitespace; returns its shape.
    mutating func document() throws(JSONParseError) -> EncodedJSON.Kind {
        skipWhitespace()
        guard index < count else { throw fail("empty document") }
        let kind: EncodedJSON.Kind =
            switch input[index] {
            case UInt8(ascii: "{"): .object
            case UInt8(ascii: "["): .array
            default: .scalar
            }
        try value(depth: 0)
        skipWhitespace()
        if index != count { throw fail("unexpected data after the JSON value") }
        if compacted { flush(upTo: count) }
        return kind
    }

    /// Copies everything not yet copied (the caller wants the text in `output` even when nothing was dropped).
    mutating func flushAll() {
        flush(upTo: count)
    }

    func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: index, reason: reason) }

    @inline(__always)
    mutating func skipWhitespace() {
        // Most tokens follow each other directly, and every JSON whitespace byte is <= 0x20: one compare settles it.
        guard index < count, input[index] <= 0x20 else { return }
        skipWhitespaceRun()
    }

    /// The whitespace run at `index` (whose byte is <= 0x20, possibly a control character the grammar refuses).
    mutating func skipWhitespaceRun() {
        var i = index
        if input[i] == 0x20, i + 1 < count, input[i + 1] > 0x20 {
            i += 1  // the single space after `,` and `:` that many writers put: no word needed
        } else {
            while true {
                if i <= lastWord {
                    let stops = ByteScan.nonWhitespace(ByteScan.word(base, at: i))
                    if stops != 0 {
                        i += ByteScan.firstLane(stops)
                        break
                    }
                    i += 8
                } else {
                    while i < count, isWhitespace(input[i]) { i += 1 }
                    break
                }
            }
        }
        guard i > index else { return }
        compacted = true
        flush(upTo: index)
        index = i
        runStart = i
    }

    @inline(__always)
    func isWhitespace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }

    /// Copies the pending run `input[runStart..<end]` to the output.
    @inline(__always)
    mutating func flush(upTo end: Int) {
        let n = end - runStart
        if n > 0 {
            let source = base + runStart, target = output + written
            if n <= 16, runStart <= count - 16 {
                // A short run (a token or two between spaces): two word copies instead of a memcpy call. Both
                // 16-byte windows are in bounds: the input by the check, the output because it holds `count`
                // bytes past the starting `written` and never gets ahead of the input (written - start <= runStart).
                let a = UnsafeRawPointer(source).loadUnaligned(as: UInt64.self)
                let b = UnsafeRawPointer(source + 8).loadUnaligned(as: UInt64.self)
                UnsafeMutableRawPointer(target).storeBytes(of: a, as: UInt64.self)
                UnsafeMutableRawPointer(target + 8).storeBytes(of: b, as: UInt64.self)
            } else {
                target.update(from: source, count: n)
            }
            written += n
        }
        runStart = end
    }

    mutating func value(depth: Int) throws(JSONParseError) {
        guard index < count else { throw fail("unexpected end of input") }
        switch input[index] {
        case UInt8(ascii: "\""): try string()
        case UInt8(ascii: "{"): try container(depth: depth + 1, close: UInt8(ascii: "}"), keyed: true)
        case UInt8(ascii: "["): try container(depth: depth + 1, close: UInt8(ascii: "]"), keyed: false)
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        default: throw fail("unexpected character")
        }
    }

    mutating func literal(_ text: StaticString) throws(JSONParseError) {
        let n = text.utf8CodeUnitCount
        guard index <= count - n else { throw fail("unexpected end of input") }
        for i in 0..<n where input[index + i] != text.utf8Start[i] { throw fail("invalid literal") }
        index += n
    }

    mutating func container(depth: Int, close: UInt8, keyed: Bool) throws(JSONParseError) {
        if depth > maxDepth { throw fail("nesting deeper than \(maxDepth)") }
        index += 1
        skipWhitespace()
        if index < count, input[index] == close {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            if keyed {
                guard index < count, input[index] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                try string()
                skipWhitespace()
                guard index < count, input[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                index += 1
                skipWhitespace()
            }
            try value(depth: depth)
            skipWhitespace()
            guard index < count else { throw fail("unexpected end of input") }
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
        guard index < count else { throw fail("invalid number") }
        if input[index] == UInt8(ascii: "0") {
            index += 1
        } else if isDigit(input[index]) {
            digits()
        } else {
            throw fail("invalid number")
        }
        if index < count, input[index] == UInt8(ascii: ".") {
            index += 1
            guard index < count, isDigit(input[index]) else { throw fail("invalid number") }
            digits()
        }
        if index < count, input[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < count, input[index] == UInt8(ascii: "+") || input[index] == UInt8(ascii: "-") { index += 1 }
            guard index < count, isDigit(input[index]) else { throw fail("invalid number") }
            digits()
        }
    }

    @inline(__always)
    mutating func digits() {
        var i = index
        while i < count, isDigit(input[i]) { i += 1 }
        index = i
    }

    @inline(__always)
    func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

    /// A string token: escapes checked, raw control characters refused, UTF-8 checked; kept as written.
    mutating func string() throws(JSONParseError) {
        index += 1
        while true {
            // The common run: printable ASCII without quote or backslash, eight bytes per step while eight remain.
            var i = index
            while true {
                if i <= lastWord {
                    let stops = ByteScan.stringStops(ByteScan.word(base, at: i))
                    if stops != 0 {
                        i += ByteScan.firstLane(stops)
                        break
                    }
                    i += 8
                } else {
                    while i < count {
                        let c = input[i]
                        guard c >= 0x20, c < 0x80, c != UInt8(ascii: "\""), c != UInt8(ascii: "\\") else { break }
                        i += 1
                    }
                    break
                }
            }
            index = i
            guard index < count else { throw fail("unterminated string") }
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
        guard index < count else { throw fail("unterminated string") }
        switch input[index] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 1
        case UInt8(ascii: "u"):
            guard index < count - 4 else { throw fail("unterminated string") }
            for i in 1...4 where !isHex(input[index + i]) { throw fail("invalid \\u escape") }
            index += 5
        default:
            throw fail("invalid escape")
        }
    }

    func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c | 0x20) &- UInt8(ascii: "a") < 6 }

    /// One UTF-8 sequence of 2–4 bytes (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
    mutating func multiByte(lead: UInt8) throws(JSONParseError) {
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: (length, low) = (3, 0xA0)
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: (length, high) = (3, 0x9F)
        case 0xF0: (length, low) = (4, 0x90)
        case 0xF1...0xF3: length = 4
        case 0xF4: (length, high) = (4, 0x8F)
        default: throw fail("invalid UTF-8 in string")
        }
        guard index <= count - length else { throw fail("invalid UTF-8 in string") }
        let second = input[index + 1]
        guard second >= low, second <= high else { throw fail("invalid UTF-8 in string") }
        for i in 2..<length where input[index + i] & 0xC0 != 0x80 { throw fail("invalid UTF-8 in string") }
        index += length
    }
}
