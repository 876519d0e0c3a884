// SPDX-License-Identifier: Apache-2.0

import MCPCore
import XCTest

final class JSONParserTests: XCTestCase {
    func testParsesAllTypesAndRoundTrips() throws {
        let text = #"{"a":[1,-2.5,true,false,null,"x\n\"y\u00e9\ud83d\ude00"],"b":{"c":9007199254740993}}"#
        let v = try JSONParser.parse(text)
        XCTAssertEqual(v["b"]?["c"], .int(9_007_199_254_740_993))
        XCTAssertEqual(v["a"]?.arrayValue?[1], .double(-2.5))
        XCTAssertEqual(v["a"]?.arrayValue?[5].stringValue, "x\n\"yé😀")
        let again = try JSONParser.parse(JSONWriter.encode(v))
        XCTAssertEqual(again, v)
    }

    func testRejectsDuplicateKeys() {
        XCTAssertThrowsError(try JSONParser.parse(#"{"a":1,"a":2}"#)) { error in
            XCTAssertTrue(String(describing: error).contains("duplicate key"))
        }
    }

    func testRejectsDeepNesting() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        XCTAssertThrowsError(try JSONParser.parse(deep))
        let ok = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        XCTAssertNoThrow(try JSONParser.parse(ok))
    }

    func testRejectsNULLoneSurrogateBadUTF8AndTrailingData() {
        XCTAssertThrowsError(try JSONParser.parse(#"{"a":"x\u0000y"}"#))
        XCTAssertThrowsError(try JSONParser.parse(#""\ud800""#))
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]))
        XCTAssertThrowsError(try JSONParser.parse("{} x"))
        XCTAssertThrowsError(try JSONParser.parse("1e999"))
        XCTAssertThrowsError(try JSONParser.parse("01"))
        XCTAssertThrowsError(try JSONParser.parse("\"a\tb\""))
    }

    func testWriterEscapesAndSortsKeys() {
        let v: JSONValue = ["b": "line\nbreak \"q\" / \u{01}", "a": 1.5, "c": .double(.infinity)]
        XCTAssertEqual(v.jsonText, #"{"a":1.5,"b":"line\nbreak \"q\" / \u0001","c":null}"#)
    }
}

final class JSONRPCTests: XCTestCase {
    func testANulInAStringIsRefusedAsBadParamsOfTheRequestItCameIn() {
        let bytes = Array(#"{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"x","arguments":{"q":"a\u0000b"}}}"#.utf8)
        XCTAssertThrowsError(try RPCMessage.parse(bytes)) { error in
            XCTAssertEqual((error as? RPCError)?.code, -32602, "valid JSON: not a parse error")
            XCTAssertTrue((error as? RPCError)?.message.contains("NUL") ?? false)
        }
        XCTAssertEqual(RPCMessage.salvageID(bytes), .int(41), "so the client can match the refusal to its call")
        XCTAssertThrowsError(try RPCMessage.parse(Array(#"{"jsonrpc":"2.0","id":1,"method":"ping",,}"#.utf8))) { error in
            XCTAssertEqual((error as? RPCError)?.code, -32700, "malformed JSON stays a parse error")
        }
    }

    func testClassifiesMessages() throws {
        guard case .request(let r) = try RPCMessage.parse(Array(#"{"jsonrpc":"2.0","id":"a","method":"ping"}"#.utf8)) else {
            return XCTFail("expected a request")
        }
        XCTAssertEqual(r.id, .string("a"))
        guard case .notification(let n) = try RPCMessage.parse(Array(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8)) else {
            return XCTFail("expected a notification")
        }
        XCTAssertEqual(n.method, "notifications/initialized")
    }

    func testProtocolErrorsHaveExactCodes() {
        func code(_ s: String) -> Int? {
            do {
                _ = try RPCMessage.parse(Array(s.utf8))
                return nil
            } catch { return error.code }
        }
        XCTAssertEqual(code("{not json"), -32700)
        XCTAssertEqual(code(#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#), -32600)
        XCTAssertEqual(code(#"{"id":1,"method":"ping"}"#), -32600)
        XCTAssertEqual(code(#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#), -32600)
        XCTAssertEqual(code(#"{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}"#), -32600)
        XCTAssertEqual(code(#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#), -32600)
    }

    func testEncodesResponses() throws {
        let bytes = RPCEncoding.error(id: .int(7), .methodNotFound("nope"))
        let v = try JSONParser.parse(bytes)
        XCTAssertEqual(v["id"], .int(7))
        XCTAssertEqual(v["error"]?["code"], .int(-32601))
        XCTAssertEqual(RPCMessage.salvageID(Array(#"{"id":"x","method":5}"#.utf8)), .string("x"))
    }

    func testVersionNegotiation() {
        XCTAssertEqual(ProtocolVersion.negotiate("2025-06-18"), "2025-06-18")
        XCTAssertEqual(ProtocolVersion.negotiate("1999-01-01"), "2025-11-25")
        XCTAssertEqual(ProtocolVersion.negotiate(nil), "2025-11-25")
    }

    func testResourceTemplateMatching() {
        let t = ResourceTemplate(uriTemplate: "broker://erp/purchase-orders/{po}", name: "po")
        XCTAssertEqual(t.match("broker://erp/purchase-orders/4500000001"), ["po": "4500000001"])
        XCTAssertEqual(t.match("broker://erp/purchase-orders/a%20b"), ["po": "a b"])
        XCTAssertNil(t.match("broker://erp/purchase-orders/"))
        XCTAssertNil(t.match("broker://erp/purchase-orders/1/extra"))
        XCTAssertNil(t.match("broker://hr/purchase-orders/1"))
    }
}
