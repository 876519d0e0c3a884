// SPDX-License-Identifier: Apache-2.0

@testable import MCPCore

/// The byte-at-a-time checker the relay path used before the word-at-a-time scanner (kept here, simplified to
/// plain array indexing, as the reference the fast scanner is compared with): the same grammar, offsets and
/// reasons, and the compact text as the input minus the whitespace runs it skipped.
struct ReferenceCompactor {
    let input: [UInt8]
    let maxDepth: Int
    var index = 0
    /// Whitespace runs between tokens, in order.
    var dropped: [Range<Int>] = []

    static func validating(_ input: [UInt8], maxDepth: Int = 64) -> Result<EncodedJSON, JSONParseError> {
        var scanner = ReferenceCompactor(input: input, maxDepth: maxDepth)
        do throws(JSONParseError) {
            let kind = try scanner.document()
            var out: [UInt8] = []
            var start = 0
            for run in scanner.dropped {
                out += input[start..<run.lowerBound]
                start = run.upperBound
            }
            out += input[start...]
            return .success(EncodedJSON(bytes: out, kind: kind))
        } catch {
            return .failure(error)
        }
    }

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
        return kind
    }

    func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: index, reason: reason) }

    mutating func skipWhitespace() {
        let start = index
        while index < input.count, [0x20, 0x0A, 0x0D, 0x09].contains(input[index]) { index += 1 }
        if index > start { dropped.append(start..<index) }
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

    mutating func literal(_ text: String) throws(JSONParseError) {
        let bytes = Array(text.utf8)
        guard index + bytes.count <= input.count else { throw fail("unexpected end of input") }
        if Array(input[index..<index + bytes.count]) != bytes { throw fail("invalid literal") }
        index += bytes.count
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

    func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    mutating func number() throws(JSONParseError) {
        if input[index] == UInt8(ascii: "-") { index += 1 }
        guard index < input.count else { throw fail("invalid number") }
        if input[index] == UInt8(ascii: "0") {
            index += 1
        } else if isDigit(input[index]) {
            while index < input.count, isDigit(input[index]) { index += 1 }
        } else {
            throw fail("invalid number")
        }
        if index < input.count, input[index] == UInt8(ascii: ".") {
            index += 1
            guard index < input.count, isDigit(input[index]) else { throw fail("invalid number") }
            while index < input.count, isDigit(input[index]) { index += 1 }
        }
        if index < input.count, input[index] == UInt8(ascii: "e") || input[index] == UInt8(ascii: "E") {
            index += 1
            if index < input.count, input[index] == UInt8(ascii: "+") || input[index] == UInt8(ascii: "-") { index += 1 }
            guard index < input.count, isDigit(input[index]) else { throw fail("invalid number") }
            while index < input.count, isDigit(input[index]) { index += 1 }
        }
    }

    /// One byte at a time: every byte of a string is looked at on its own.
    mutating func string() throws(JSONParseError) {
        index += 1
        while true {
            guard index < input.count else { throw fail("unterminated string") }
            let c = input[index]
            switch c {
            case UInt8(ascii: "\""):
                index += 1
                return
            case UInt8(ascii: "\\"):
                try escape()
            case 0x00..<0x20:
                throw fail("control character in string")
            case 0x20..<0x80:
                index += 1
            default:
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
            for i in 1...4 where !Array("0123456789abcdefABCDEF".utf8).contains(input[index + i]) { throw fail("invalid \\u escape") }
            index += 5
        default:
            throw fail("invalid escape")
        }
    }

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
