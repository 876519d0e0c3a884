// SPDX-License-Identifier: Apache-2.0

@testable import MCPCore
import XCTest

/// Object keys are written in UTF-8 byte order; the contiguous comparison must agree with the UTF-8 view's.
final class KeyOrderTests: XCTestCase {
    func testContiguousComparisonAgreesWithUTF8ViewOrder() {
        var rng = SystemRandomNumberGenerator()
        let pieces = ["", "a", "b", "ab", "aa", "z", "A", "_", "é", "e\u{301}", "€", "😀", "\u{7f}", "id", "id2", "name", "nam", "long_key_with_more_than_15"]
        var keys = pieces
        for _ in 0..<400 {
            keys.append((0..<Int.random(in: 1...4, using: &rng)).map { _ in pieces.randomElement(using: &rng) ?? "" }.joined())
        }
        for a in keys {
            for b in keys.prefix(60) {
                XCTAssertEqual(JSONWriter.utf8Precedes(a, b), a.utf8.lexicographicallyPrecedes(b.utf8), "\(a) vs \(b)")
            }
        }
    }

    func testObjectKeysAreWrittenInByteOrder() {
        let value = JSONValue.object(["b": 1, "a": 2, "é": 3, "Z": 4, "aa": 5, "😀": 6])
        XCTAssertEqual(String(decoding: JSONWriter.encode(value), as: UTF8.self), #"{"Z":4,"a":2,"aa":5,"b":1,"é":3,"😀":6}"#)
    }
}
