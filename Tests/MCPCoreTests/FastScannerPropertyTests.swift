// SPDX-License-Identifier: Apache-2.0

@testable import MCPCore
import XCTest

/// The word-at-a-time relay scanner (``Compactor`` over ``ByteScan``) against simple references: the same
/// accept/refuse decision, the same compact bytes, and for refused input the same error offset and reason.
/// Seeded, so a failure reproduces; special bytes are put at every position relative to the 8-byte words.
final class FastScannerPropertyTests: XCTestCase {
    /// Compares the fast scanner with the reference on one input (and `validatingObject` with validating + wrap).
    func assertAgrees(_ input: [UInt8], maxDepth: Int = 64, _ note: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
        let fast = Result { () throws(JSONParseError) in try EncodedJSON.validating(input, maxDepth: maxDepth) }
        let reference = ReferenceCompactor.validating(input, maxDepth: maxDepth)
        XCTAssertEqual(fast, reference, "\(note()) \(String(decoding: input, as: UTF8.self).debugDescription) \(input)", file: file, line: line)
        let object = Result { () throws(JSONParseError) in try EncodedJSON.validatingObject(input, wrappingOthersIn: "it\"ems", maxDepth: maxDepth) }
        let wrapped = reference.map { $0.kind == .object ? $0 : $0.wrapped(in: "it\"ems") }
        XCTAssertEqual(object, wrapped, "validatingObject \(note()) \(input)", file: file, line: line)
    }

    // MARK: byte classes

    /// Every byte value in every lane of a word, with random neighbours: each mask flags exactly its class.
    func testByteClassesAreExactInEveryLane() {
        var rng = SplitMix(seed: 0xB17E5)
        func isWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }
        let classes: [(String, (UInt64) -> UInt64, (UInt8) -> Bool)] = [
            ("stringStops", ByteScan.stringStops, { $0 < 0x20 || $0 >= 0x80 || $0 == 0x22 || $0 == 0x5C }),
            ("escapeLanes", ByteScan.escapeLanes, { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }),
            ("nonWhitespace", ByteScan.nonWhitespace, { !isWhitespace($0) }),
        ]
        for round in 0..<24 {
            for lane in 0..<8 {
                for value in 0...255 {
                    var bytes = (0..<8).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                    // Some rounds with neighbours that are all in (or all out of) a class, so carries would show.
                    if round % 3 == 1 { bytes = [UInt8](repeating: [0x22, 0x00, 0x20, 0x5C][round % 4], count: 8) }
                    if round % 3 == 2 { bytes = [UInt8](repeating: [0x61, 0xFF, 0x7F, 0x80][round % 4], count: 8) }
                    bytes[lane] = UInt8(value)
                    let word = bytes.withUnsafeBufferPointer { $0.baseAddress.map { ByteScan.word($0, at: 0) } ?? 0 }
                    for (name, mask, member) in classes {
                        let expected = bytes.enumerated().reduce(UInt64(0)) { $0 | (member($1.element) ? UInt64(0x80) << (8 * UInt64($1.offset)) : 0) }
                        XCTAssertEqual(mask(word), expected, "\(name) \(bytes)")
                        if mask(word) != expected { return }
                    }
                }
            }
        }
    }

    // MARK: strings

    /// Pieces that end or interrupt a plain run, valid and invalid, each put at every offset 0..<40 of a string
    /// (so before, on and after word boundaries), in several surrounding contexts and alignments.
    func testStringPiecesAtEveryOffsetAgree() {
        let pieces: [[UInt8]] = [
            Array(#"\""#.utf8), Array(#"\\"#.utf8), Array(#"\/"#.utf8), Array(#"\n"#.utf8), Array(#"\u00e9"#.utf8),
            Array(#"\uD834\uDD1E"#.utf8), Array(#"\u12G4"#.utf8), Array(#"\x"#.utf8), Array(#"\u00"#.utf8), [0x5C],
            [0x00], [0x01], [0x09], [0x0A], [0x1F], [0x7F], [0x20],
            Array("é".utf8), Array("✓".utf8), Array("𝄞".utf8), [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
            [0xE2, 0x82], [0xFF], [0x80], [0xC3], [0xF0, 0x9F, 0x98],
        ]
        let contexts: [(prefix: String, suffix: String)] = [("", ""), ("{\"k\": ", "}"), ("[1, ", " ]"), ("  [\"pad\",\n ", "]\n")]
        var checked = 0
        for piece in pieces {
            for offset in 0..<40 {
                for (prefix, suffix) in contexts {
                    for tail in [0, 3, 9] {
                        var string: [UInt8] = [0x22] + [UInt8](repeating: UInt8(ascii: "a"), count: offset) + piece
                        string += [UInt8](repeating: UInt8(ascii: "b"), count: tail) + [0x22]
                        assertAgrees(Array(prefix.utf8) + string + Array(suffix.utf8), "piece \(piece) at \(offset)")
                        // Unterminated: the string runs into the end of the input at every length.
                        assertAgrees(Array(prefix.utf8) + string.dropLast(), "unterminated piece \(piece) at \(offset)")
                        checked += 2
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 10_000)
    }

    // MARK: whitespace

    /// Whitespace runs of every length 0..<40 between every pair of tokens, with control bytes inside some runs
    /// (the grammar must refuse those at the same offset).
    func testWhitespaceRunsOfEveryLengthAgree() {
        var rng = SplitMix(seed: 0x5ACE)
        let whitespace: [UInt8] = [0x20, 0x0A, 0x0D, 0x09]
        let tokens = ["{", "\"key\"", ":", "[", "1.5e3", ",", "true", ",", "\"v\"", "]", ",", "\"n\"", ":", "null", "}"]
        for length in 0..<40 {
            for gap in 0...tokens.count {
                var run = (0..<length).map { _ in whitespace[Int(rng.next() % 4)] }
                if length > 0, rng.next() % 5 == 0 { run[Int(rng.next() % UInt64(length))] = [0x00, 0x0B, 0x0C, 0x1F, 0xA0][Int(rng.next() % 5)] }
                var input: [UInt8] = []
                for (position, token) in tokens.enumerated() {
                    if position == gap { input += run }
                    input += Array(token.utf8)
                }
                if gap == tokens.count { input += run }
                assertAgrees(input, "run of \(length) at gap \(gap)")
            }
        }
        assertAgrees([UInt8](repeating: 0x20, count: 100), "only whitespace")
        assertAgrees([], "empty")
    }

    // MARK: nesting

    /// Nesting exactly at the limit and one past it, for limits around the 64-level word of the nesting stack and
    /// far beyond; mismatched and missing closers at every depth.
    func testNestingAtTheLimitAgrees() {
        var rng = SplitMix(seed: 0xDEE9)
        for limit in [0, 1, 2, 8, 63, 64, 65, 127, 128, 129, 200] {
            for depth in [limit, limit + 1] where depth > 0 {
                var open: [UInt8] = []
                for _ in 0..<depth { open.append(rng.next() % 2 == 0 ? UInt8(ascii: "[") : UInt8(ascii: "{")) }
                var text: [UInt8] = []
                for c in open { text += c == UInt8(ascii: "[") ? [c, 0x20] : Array(#"{"k" :"#.utf8) }
                text += Array("0".utf8)
                let closers = open.reversed().map { $0 == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: "}") }
                assertAgrees(text + closers, maxDepth: limit, "depth \(depth) limit \(limit)")
                assertAgrees(text + closers.dropLast(), maxDepth: limit, "unclosed, depth \(depth) limit \(limit)")
                if !closers.isEmpty {
                    var wrong = closers
                    let at = Int(rng.next() % UInt64(wrong.count))
                    wrong[at] = wrong[at] == UInt8(ascii: "]") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                    assertAgrees(text + wrong, maxDepth: limit, "mismatched closer at \(at), depth \(depth) limit \(limit)")
                }
            }
        }
    }

    // MARK: random documents

    /// Random documents written with random whitespace (including long strings with escapes and UTF-8), then
    /// byte-mutated: the fast scanner and the reference agree on every one, errors included.
    func testRandomDocumentsAndMutationsAgree() {
        var rng = SplitMix(seed: 0xF00D)
        var accepted = 0, refused = 0
        for _ in 0..<600 {
            var document: [UInt8] = []
            writeValue(&rng, depth: 0, into: &document)
            assertAgrees(document, "generated")
            for _ in 0..<10 {
                var mutated = document
                let i = Int(rng.next() % UInt64(mutated.count))
                let alphabet: [UInt8] = Array(#"{}[]:,"\ 0123456789eE.-+tfnul"#.utf8) + [0x00, 0x09, 0x0A, 0x1F, 0x7F, 0x80, 0xC3, 0xE2, 0xF0, 0xFF]
                switch rng.next() % 3 {
                case 0: mutated[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: mutated.remove(at: i)
                default: mutated.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: i)
                }
                assertAgrees(mutated, "mutated")
                if (try? EncodedJSON.validating(mutated)) == nil { refused += 1 } else { accepted += 1 }
            }
        }
        XCTAssertGreaterThan(accepted, 300, "valid mutations compare compact bytes")
        XCTAssertGreaterThan(refused, 3000, "invalid mutations compare errors")
    }

    func writeWhitespace(_ rng: inout SplitMix, into out: inout [UInt8]) {
        let length: Int
        switch rng.next() % 4 {
        case 0, 1: length = 0
        case 2: length = 1
        default: length = Int(rng.next() % 24)
        }
        for _ in 0..<length { out.append([0x20, 0x0A, 0x0D, 0x09][Int(rng.next() % 4)]) }
    }

    func writeValue(_ rng: inout SplitMix, depth: Int, into out: inout [UInt8]) {
        writeWhitespace(&rng, into: &out)
        switch rng.next() % (depth > 4 ? 4 : 6) {
        case 0: out += Array(["true", "false", "null"][Int(rng.next() % 3)].utf8)
        case 1: out += Array(["0", "-0", "12", "-3.25", "1e9", "6.02E+23", "-1.5e-7", "123456789012345"][Int(rng.next() % 8)].utf8)
        case 2, 3: writeString(&rng, into: &out)
        case 4:
            out.append(UInt8(ascii: "["))
            let n = Int(rng.next() % 5)
            for k in 0..<n {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                writeValue(&rng, depth: depth + 1, into: &out)
            }
            writeWhitespace(&rng, into: &out)
            out.append(UInt8(ascii: "]"))
        default:
            out.append(UInt8(ascii: "{"))
            let n = Int(rng.next() % 5)
            for k in 0..<n {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                writeWhitespace(&rng, into: &out)
                writeString(&rng, into: &out)
                writeWhitespace(&rng, into: &out)
                out.append(UInt8(ascii: ":"))
                writeValue(&rng, depth: depth + 1, into: &out)
            }
            writeWhitespace(&rng, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        writeWhitespace(&rng, into: &out)
    }

    func writeString(_ rng: inout SplitMix, into out: inout [UInt8]) {
        let pieces = ["a", "plain words ", "é", "✓", "𝄞", #"\""#, #"\\"#, #"\n"#, #"\u00e9"#, " ", "0123456789abcdef", "/"]
        out.append(0x22)
        let n = Int(rng.next() % (rng.next() % 4 == 0 ? 40 : 6))
        for _ in 0..<n { out += Array(pieces[Int(rng.next() % UInt64(pieces.count))].utf8) }
        out.append(0x22)
    }

    // MARK: the string writer

    /// ``JSONWriter/writeString(_:into:)`` (run-based) against a byte-at-a-time escaper, with every special byte
    /// at every offset of strings up to 40 bytes and on random strings.
    func testWriteStringMatchesAByteAtATimeEscaper() {
        func reference(_ s: String) -> [UInt8] {
            var out: [UInt8] = [0x22]
            for c in s.utf8 {
                switch c {
                case 0x22: out += Array(#"\""#.utf8)
                case 0x5C: out += Array(#"\\"#.utf8)
                case 0x0A: out += Array(#"\n"#.utf8)
                case 0x0D: out += Array(#"\r"#.utf8)
                case 0x09: out += Array(#"\t"#.utf8)
                case 0x00..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    out += Array(#"\u00"#.utf8) + [hex[Int(c >> 4)], hex[Int(c & 0xF)]]
                default: out.append(c)
                }
            }
            return out + [0x22]
        }
        let specials = ["\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "✓", "𝄞", "/"]
        for special in specials {
            for offset in 0..<40 {
                for tail in [0, 1, 7, 8, 9] {
                    let s = String(repeating: "x", count: offset) + special + String(repeating: "y", count: tail)
                    var out: [UInt8] = Array("prefix".utf8)
                    JSONWriter.writeString(s, into: &out)
                    XCTAssertEqual(out, Array("prefix".utf8) + reference(s), s.debugDescription)
                }
            }
        }
        var rng = SplitMix(seed: 0xE5C)
        for _ in 0..<500 {
            let s = (0..<Int(rng.next() % 60)).map { _ in (specials + ["a", "bc", "plain text"])[Int(rng.next() % 15)] }.joined()
            XCTAssertEqual(JSONWriter.encode(.string(s)), reference(s), s.debugDescription)
        }
    }

    /// The tool-result envelope written around an encoded document equals the value path's bytes when the text
    /// needs escapes, and the size estimate covers it.
    func testCallToolResultEnvelopeWithEscapedTextMatchesTheValuePath() throws {
        let structured = try EncodedJSON.validatingObject(Array(#"[ {"a": "x\"y"}, 2 ]"#.utf8), wrappingOthersIn: "items")
        let content: [ContentBlock] = [.text(structured.preview(limit: 4000)), .text("line\nbreak \u{1} \"q\"")]
        var bytes: [UInt8] = []
        CallToolResult.encode(content: content, structuredContent: structured, into: &bytes)
        let value = CallToolResult(content: content, structuredContent: structured.decoded()).json
        XCTAssertEqual(bytes, JSONWriter.encode(value))
        XCTAssertGreaterThanOrEqual(CallToolResult.encodedSizeEstimate(content: content, structuredContent: structured), bytes.count)
    }
}
