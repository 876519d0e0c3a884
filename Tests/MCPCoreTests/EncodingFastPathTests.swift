// SPDX-License-Identifier: Apache-2.0

import MCPCore
import XCTest

/// The fast paths of the encoder must produce exactly the bytes of the general path.
final class EncodingFastPathTests: XCTestCase {
    func testEncodedResultEnvelopeMatchesTheValueEnvelope() throws {
        let result: JSONValue = ["tools": [["name": "a__b", "inputSchema": ["type": "object"]]], "nextCursor": "x"]
        for id in [RequestID.int(7), .string("req-\"1\"")] {
            XCTAssertEqual(RPCEncoding.result(id: id, encoded: JSONWriter.encode(result)), RPCEncoding.result(id: id, result))
        }
    }

    func testStringRunsAndEscapesRoundTrip() throws {
        let long = String(repeating: "plain text é ✓ ", count: 200)
        let tricky = long + "quote\" back\\slash \n\r\t \u{01}\u{1F} end"
        let encoded = JSONWriter.encode(.string(tricky))
        XCTAssertEqual(try JSONParser.parse(encoded), .string(tricky))
        XCTAssertTrue(String(decoding: encoded, as: UTF8.self).hasSuffix(#"quote\" back\\slash \n\r\t \u0001\u001f end""#))
    }

    func testObjectKeysAreWrittenInByteOrder() {
        let value: JSONValue = ["b": 1, "a": 2, "B": 3, "é": 4, "aa": 5]
        XCTAssertEqual(String(decoding: JSONWriter.encode(value), as: UTF8.self), #"{"B":3,"a":2,"aa":5,"b":1,"é":4}"#)
    }
}
