// SPDX-License-Identifier: Apache-2.0

import MCPCore
import XCTest

/// The relay checker must accept exactly the JSON the tree parser accepts (bar duplicate keys) and keep values.
final class EncodedJSONTests: XCTestCase {
    func compact(_ s: String, maxDepth: Int = 64) throws -> String {
        String(decoding: try EncodedJSON.validating(Array(s.utf8), maxDepth: maxDepth).bytes, as: UTF8.self)
    }

    func testCompactsWhitespaceBetweenTokensOnly() throws {
        let pretty = """
             {
              "a b" : [ 1 , -2.5e+3 , true , false , null ] ,
              "s": "x \\" \\\\ \\u00e9 \\n y\\t" ,
              "o" : { } , "l" : [ ]
            }\t\r\n
            """
        XCTAssertEqual(try compact(pretty), #"{"a b":[1,-2.5e+3,true,false,null],"s":"x \" \\ \u00e9 \n y\t","o":{},"l":[]}"#)
        XCTAssertEqual(try EncodedJSON.validating(Array(pretty.utf8)).decoded(), try JSONParser.parse(pretty, limits: .init(rejectNUL: false)))
        XCTAssertEqual(try EncodedJSON.validating(Array("[1]".utf8)).kind, .array)
        XCTAssertEqual(try EncodedJSON.validating(Array(" \"s\" ".utf8)).kind, .scalar)
    }

    func testRefusesWhatIsNotStrictJSON() {
        let bad: [[UInt8]] = [
            [], Array("  ".utf8), Array(#"{"a":1,}"#.utf8), Array("[1,]".utf8), Array("01".utf8), Array("1.".utf8), Array("-".utf8),
            Array("1e".utf8), Array(#""abc"#.utf8), Array(#""\x""#.utf8), Array(#""\u12G4""#.utf8), Array(#"{"a" 1}"#.utf8),
            Array("{1:2}".utf8), Array("tru".utf8), Array("nul".utf8), Array("[1 2]".utf8), Array("1 2".utf8), Array("+1".utf8),
            Array("[".utf8), Array(#"{"a":}"#.utf8), Array("'a'".utf8), Array("NaN".utf8),
            [0x22, 0x01, 0x22],  // raw control character
            [0x22, 0xC0, 0xAF, 0x22],  // overlong
            [0x22, 0xED, 0xA0, 0x80, 0x22],  // UTF-16 surrogate as UTF-8
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
            [0x22, 0xE2, 0x82, 0x22],  // truncated sequence
            [0x22, 0xFF, 0x22], [0x22, 0x80, 0x22],
        ]
        for input in bad {
            XCTAssertThrowsError(try EncodedJSON.validating(input), "\(input)")
            XCTAssertThrowsError(try JSONParser.parse(input, limits: .init(rejectNUL: false)), "the tree parser agrees: \(input)")
        }
        XCTAssertThrowsError(try compact(String(repeating: "[", count: 65) + String(repeating: "]", count: 65)))
        XCTAssertNoThrow(try compact(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)))
    }

    func testAcceptsDuplicateKeysTheTreeParserRefuses() throws {
        XCTAssertEqual(try compact(#"{"a":1,"a":2}"#), #"{"a":1,"a":2}"#)
        XCTAssertNil(try EncodedJSON.validating(Array(#"{"a":1,"a":2}"#.utf8)).decoded())
    }

    /// Seeded differential fuzzing: written values round-trip unchanged, and for byte-mutated documents the
    /// checker and the tree parser agree on accept/refuse.
    func testAgreesWithTheTreeParserOnMutatedDocuments() throws {
        var rng = SplitMix(seed: 0x5EED)
        var accepted = 0
        for _ in 0..<400 {
            let value = randomValue(&rng, depth: 0)
            let bytes = JSONWriter.encode(value)
            let encoded = try EncodedJSON.validating(bytes)
            XCTAssertEqual(encoded.bytes, bytes, "compact input is copied unchanged")
            XCTAssertEqual(encoded.decoded(), try JSONParser.parse(bytes), "the same value as the tree parser reads")
            for _ in 0..<8 {
                var mutated = bytes
                let i = Int(rng.next() % UInt64(mutated.count))
                let alphabet: [UInt8] = Array(#"{}[]:,"\ 0123456789eE.-+tfnul"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xE2, 0xF0, 0xFF]
                switch rng.next() % 3 {
                case 0: mutated[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: mutated.remove(at: i)
                default: mutated.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: i)
                }
                let tree: Result<JSONValue, JSONParseError> = Result { () throws(JSONParseError) in
                    try JSONParser.parse(mutated, limits: .init(rejectNUL: false))
                }
                let relay = Result { () throws(JSONParseError) in try EncodedJSON.validating(mutated) }
                switch (tree, relay) {
                case (.success(let v), .success(let e)):
                    accepted += 1
                    XCTAssertEqual(e.decoded(), v, String(decoding: mutated, as: UTF8.self))
                case (.failure(let error), .success):
                    XCTAssertTrue(error.reason.hasPrefix("duplicate key") || error.reason == "number out of range", "\(error): \(mutated)")
                case (.success, .failure(let error)):
                    XCTFail("relay refused what the parser took: \(error) in \(String(decoding: mutated, as: UTF8.self))")
                case (.failure, .failure):
                    break
                }
            }
        }
        XCTAssertGreaterThan(accepted, 50, "the mutations also produce valid documents, so acceptance is compared too")
    }

    func testPreviewCutsOnACharacterBoundary() throws {
        let encoded = try EncodedJSON.validating(Array("\"\(String(repeating: "é", count: 100))\"".utf8))
        for limit in 1...20 {
            let p = encoded.preview(limit: limit)
            XCTAssertTrue(p.hasSuffix("…"))
            XCTAssertFalse(p.contains("\u{FFFD}"), "limit \(limit)")
            XCTAssertLessThanOrEqual(p.utf8.count - "…".utf8.count, limit)
        }
        XCTAssertEqual(encoded.preview(limit: 1000), String(decoding: encoded.bytes, as: UTF8.self))
    }

    func testWrappedAndCallToolResultMatchTheValuePath() throws {
        let array = try EncodedJSON.validating(Array("[1, {\"b\": [true]}]".utf8))
        let wrapped = array.wrapped(in: "items")
        XCTAssertEqual(wrapped.kind, .object)
        XCTAssertEqual(String(decoding: wrapped.bytes, as: UTF8.self), #"{"items":[1,{"b":[true]}]}"#)
        let content: [ContentBlock] = [.text("preview"), .resourceLink(uri: "broker://x/y", name: "y", description: nil, mimeType: nil)]
        var bytes: [UInt8] = []
        CallToolResult.encode(content: content, structuredContent: wrapped, into: &bytes)
        let expected = CallToolResult(content: content, structuredContent: wrapped.decoded()).json
        XCTAssertEqual(try JSONParser.parse(bytes), expected)
        XCTAssertEqual(bytes, JSONWriter.encode(expected), "single-key objects: even the bytes agree")
    }

    func randomValue(_ rng: inout SplitMix, depth: Int) -> JSONValue {
        switch rng.next() % (depth > 3 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(rng.next() % 2 == 0)
        case 2: return .int(Int64(bitPattern: rng.next()) >> Int64(rng.next() % 60))
        case 3: return .double(Double(Int64(rng.next() % 100_000) - 50_000) / 64)
        case 4:
            let pieces = ["a", "é", "✓", "\"", "\\", "\n", "\u{1}", " ", "𝄞", "z9"]
            return .string((0..<Int(rng.next() % 6)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined())
        case 5: return .array((0..<Int(rng.next() % 4)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var o: [String: JSONValue] = [:]
            for i in 0..<Int(rng.next() % 4) { o["k\(i)\(rng.next() % 3)"] = randomValue(&rng, depth: depth + 1) }
            return .object(o)
        }
    }
}

/// A small seeded generator so failures reproduce.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
