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
    ///
    /// One loop over the tokens with an explicit stack of open containers rather than a recursive descent: the
    /// position stays in a register and a token costs no call, which is most of the time on token-dense documents.
    /// Each step mirrors the recursive grammar it replaced, so errors name the same offset and reason.
    mutating func document() throws(JSONParseError) -> EncodedJSON.Kind {
        var i = skipWhitespace(from: 0)
        guard i < count else { throw fail(i, "empty document") }
        let kind: EncodedJSON.Kind =
            switch input[i] {
            case UInt8(ascii: "{"): .object
            case UInt8(ascii: "["): .array
            default: .scalar
            }
        var open = NestingStack()
        var next = Expect.value
        tokens: while true {
            switch next {
            case .value:
                guard i < count else { throw fail(i, "unexpected end of input") }
                let c = input[i]
                switch c {
                case UInt8(ascii: "\""):
                    i = try string(from: i)
                    next = .separator
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    if open.depth >= maxDepth { throw fail(i, "nesting deeper than \(maxDepth)") }
                    let keyed = c == UInt8(ascii: "{")
                    i = skipWhitespace(from: i + 1)
                    if i < count, input[i] == (keyed ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                        i += 1
                        next = .separator
                    } else {
                        open.push(keyed: keyed)
                        next = keyed ? .key : .value
                    }
                case UInt8(ascii: "t"):
                    i = try literal("true", at: i)
                    next = .separator
                case UInt8(ascii: "f"):
                    i = try literal("false", at: i)
                    next = .separator
                case UInt8(ascii: "n"):
                    i = try literal("null", at: i)
                    next = .separator
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    i = try number(from: i)
                    next = .separator
                default:
                    throw fail(i, "unexpected character")
                }
            case .key:
                guard i < count, input[i] == UInt8(ascii: "\"") else { throw fail(i, "expected a string key") }
                i = skipWhitespace(from: try string(from: i))
                guard i < count, input[i] == UInt8(ascii: ":") else { throw fail(i, "expected ':'") }
                i = skipWhitespace(from: i + 1)
                next = .value
            case .separator:
                guard open.depth > 0 else { break tokens }
                i = skipWhitespace(from: i)
                guard i < count else { throw fail(i, "unexpected end of input") }
                let keyed = open.innermostIsKeyed
                let c = input[i]
                if c == UInt8(ascii: ",") {
                    i = skipWhitespace(from: i + 1)
                    next = keyed ? .key : .value
                } else if c == (keyed ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    i += 1
                    open.pop()
                } else {
                    throw fail(i, keyed ? "expected ',' or '}'" : "expected ',' or ']'")
                }
            }
        }
        i = skipWhitespace(from: i)
        if i != count { throw fail(i, "unexpected data after the JSON value") }
        if compacted { flush(upTo: count) }
        return kind
    }

    /// What the token loop reads next.
    enum Expect {
        /// Any value (after `[`, `,` in an array, `:`, or at the top).
        case value
        /// A member's key (after `{` or `,` in an object).
        case key
        /// `,` or the innermost container's close, or the end when no container is open.
        case separator
    }

    /// Copies everything not yet copied (the caller wants the text in `output` even when nothing was dropped).
    mutating func flushAll() {
        flush(upTo: count)
    }

    func fail(_ offset: Int, _ reason: String) -> JSONParseError { JSONParseError(offset: offset, reason: reason) }

    /// The offset of the first non-whitespace byte from `i`; a dropped run is copied around (see ``flush(upTo:)``).
    @inline(__always)
    mutating func skipWhitespace(from i: Int) -> Int {
        // Most tokens follow each other directly, and every JSON whitespace byte is <= 0x20: one compare settles it.
        guard i < count, input[i] <= 0x20 else { return i }
        if input[i] == 0x20, i + 1 < count, input[i + 1] > 0x20 {
            // The single space many writers put after `,` and `:`: no word needed.
            drop(from: i, to: i + 1)
            return i + 1
        }
        return skipWhitespaceRun(from: i)
    }

    /// The whitespace run at `i` (whose byte is <= 0x20, possibly a control character the grammar refuses).
    mutating func skipWhitespaceRun(from start: Int) -> Int {
        var i = start
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
        if i > start { drop(from: start, to: i) }
        return i
    }

    /// Leaves `input[start..<end]` (whitespace) out of the compact text.
    @inline(__always)
    mutating func drop(from start: Int, to end: Int) {
        compacted = true
        flush(upTo: start)
        runStart = end
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

    /// `text` at `i`; returns the offset after it.
    func literal(_ text: StaticString, at i: Int) throws(JSONParseError) -> Int {
        let n = text.utf8CodeUnitCount
        guard i <= count - n else { throw fail(i, "unexpected end of input") }
        for k in 0..<n where input[i + k] != text.utf8Start[k] { throw fail(i, "invalid literal") }
        return i + n
    }

    /// A number starting at `i` (a `-` or a digit); returns the offset after it.
    func number(from start: Int) throws(JSONParseError) -> Int {
        var i = start
        if input[i] == UInt8(ascii: "-") { i += 1 }
        guard i < count else { throw fail(i, "invalid number") }
        if input[i] == UInt8(ascii: "0") {
            i += 1
        } else if isDigit(input[i]) {
            i = digits(from: i)
        } else {
            throw fail(i, "invalid number")
        }
        if i < count, input[i] == UInt8(ascii: ".") {
            i += 1
            guard i < count, isDigit(input[i]) else { throw fail(i, "invalid number") }
            i = digits(from: i)
        }
        if i < count, input[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < count, input[i] == UInt8(ascii: "+") || input[i] == UInt8(ascii: "-") { i += 1 }
            guard i < count, isDigit(input[i]) else { throw fail(i, "invalid number") }
            i = digits(from: i)
        }
        return i
    }

    @inline(__always)
    func digits(from start: Int) -> Int {
        var i = start
        while i < count, isDigit(input[i]) { i += 1 }
        return i
    }

    @inline(__always)
    func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

    /// A string token at `i` (its opening quote): escapes checked, raw control characters refused, UTF-8 checked;
    /// kept as written. Returns the offset after the closing quote. Inlined into the token loop: most strings are
    /// a word or two, and a call would cost as much as scanning them.
    @inline(__always)
    func string(from start: Int) throws(JSONParseError) -> Int {
        var i = start + 1
        while true {
            // The common run: printable ASCII without quote or backslash, eight bytes per step while eight remain.
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
            guard i < count else { throw fail(i, "unterminated string") }
            let c = input[i]
            if c == UInt8(ascii: "\"") { return i + 1 }
            if c == UInt8(ascii: "\\") {
                i = try escape(at: i)
            } else if c < 0x20 {
                throw fail(i, "control character in string")
            } else {
                i = try multiByte(at: i, lead: c)
            }
        }
    }

    /// The escape whose backslash is at `backslash`; returns the offset after it.
    func escape(at backslash: Int) throws(JSONParseError) -> Int {
        let i = backslash + 1
        guard i < count else { throw fail(i, "unterminated string") }
        switch input[i] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return i + 1
        case UInt8(ascii: "u"):
            guard i < count - 4 else { throw fail(i, "unterminated string") }
            for k in 1...4 where !isHex(input[i + k]) { throw fail(i, "invalid \\u escape") }
            return i + 5
        default:
            throw fail(i, "invalid escape")
        }
    }

    func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c | 0x20) &- UInt8(ascii: "a") < 6 }

    /// One UTF-8 sequence of 2–4 bytes at `i` (RFC 3629: no overlong forms, no surrogates, nothing above
    /// U+10FFFF); returns the offset after it.
    func multiByte(at i: Int, lead: UInt8) throws(JSONParseError) -> Int {
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
        default: throw fail(i, "invalid UTF-8 in string")
        }
        guard i <= count - length else { throw fail(i, "invalid UTF-8 in string") }
        let second = input[i + 1]
        guard second >= low, second <= high else { throw fail(i, "invalid UTF-8 in string") }
        for k in 2..<length where input[i + k] & 0xC0 != 0x80 { throw fail(i, "invalid UTF-8 in string") }
        return i + length
    }
}
