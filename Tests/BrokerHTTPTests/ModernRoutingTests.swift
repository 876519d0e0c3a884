// SPDX-License-Identifier: Apache-2.0

import Foundation
import HTTPTypes
import MCPCore
import XCTest

@testable import BrokerHTTP

/// The 2026-07-28 envelope ladder and status table: every rung fails with its own code, in the spec's order.
final class ModernRoutingTests: XCTestCase {
    let envelope: JSONValue = ["io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": [:]]

    func headers(_ pairs: [(String, String)]) -> HTTPFields {
        var h = HTTPFields()
        for (k, v) in pairs { if let name = HTTPField.Name(k) { h.append(HTTPField(name: name, value: v)) } }
        return h
    }

    func call(_ name: String = "a__echo", meta: JSONValue? = nil) -> RPCRequest {
        RPCRequest(id: .int(1), method: "tools/call", params: ["name": .string(name), "arguments": [:], "_meta": meta ?? envelope])
    }

    func code(_ r: Result<RequestEnvelope, RPCError>) -> Int? {
        if case .failure(let e) = r { return e.code }
        return nil
    }

    let good = [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "a__echo")]

    func testMatchingHeadersPass() throws {
        let e = try ModernRouting.check(call(), headers: headers(good)).get()
        XCTAssertEqual(e.protocolVersion, "2026-07-28")
        XCTAssertNil(e.logLevel)
    }

    func testMissingEnvelopeIsInvalidParamsBeforeHeaders() {
        let r = RPCRequest(id: .int(1), method: "tools/list", params: [:])
        XCTAssertEqual(code(ModernRouting.check(r, headers: headers([]))), -32602)
        let partial = call(meta: ["io.modelcontextprotocol/protocolVersion": "2026-07-28"])
        XCTAssertEqual(code(ModernRouting.check(partial, headers: headers(good))), -32602)
        let notString = call(meta: ["io.modelcontextprotocol/protocolVersion": 5, "io.modelcontextprotocol/clientCapabilities": [:]])
        XCTAssertEqual(code(ModernRouting.check(notString, headers: headers(good))), -32020, "header '2026-07-28' != body 5 is a mismatch first")
    }

    func testEachRoutingHeaderMustMatch() {
        for (i, pair) in good.enumerated() {
            var missing = good
            missing.remove(at: i)
            XCTAssertEqual(code(ModernRouting.check(call(), headers: headers(missing))), -32020, "without \(pair.0)")
            var wrong = good
            wrong[i].1 = "x"
            XCTAssertEqual(code(ModernRouting.check(call(), headers: headers(wrong))), -32020, "wrong \(pair.0)")
            XCTAssertEqual(code(ModernRouting.check(call(), headers: headers(good + [pair]))), -32020, "repeated \(pair.0)")
        }
    }

    func testUnsupportedVersionAfterHeadersAgree() throws {
        let meta: JSONValue = ["io.modelcontextprotocol/protocolVersion": "2099-01-01", "io.modelcontextprotocol/clientCapabilities": [:]]
        let r = ModernRouting.check(call(meta: meta), headers: headers([("MCP-Protocol-Version", "2099-01-01"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "a__echo")]))
        guard case .failure(let e) = r else { return XCTFail() }
        XCTAssertEqual(e.code, -32022)
        XCTAssertEqual(e.data?["requested"], "2099-01-01")
        XCTAssertEqual(e.data?["supported"]?.arrayValue?.first, "2026-07-28")
    }

    func testBase64SentinelIsDecoded() throws {
        let name = "ünïcode__tool"
        let encoded = "=?base64?" + Data(name.utf8).base64EncodedString() + "?="
        XCTAssertNoThrow(try ModernRouting.check(call(name), headers: headers([good[0], good[1], ("Mcp-Name", encoded)])).get())
        XCTAssertEqual(code(ModernRouting.check(call("other"), headers: headers([good[0], good[1], ("Mcp-Name", encoded)]))), -32020)
        XCTAssertNil(ModernRouting.decode("=?base64?!!!?="))
        XCTAssertNil(ModernRouting.decode("=?base64?YQ=?="), "non-canonical base64 matches nothing")
        XCTAssertEqual(ModernRouting.decode("plain"), "plain")
    }

    func testStatusTable() {
        for c in [-32700, -32600, -32602, -32020, -32021, -32022] { XCTAssertEqual(ModernRouting.status(for: c), .badRequest, "\(c)") }
        XCTAssertEqual(ModernRouting.status(for: -32601), .notFound)
        XCTAssertEqual(ModernRouting.status(for: -32603), .ok)
        XCTAssertEqual(ModernRouting.status(for: nil), .ok)
    }

    func testOnlyHandshakeVersionsStayLegacy() {
        for v in ProtocolVersion.supported { XCTAssertFalse(ProtocolVersion.routesModern(header: v)) }
        XCTAssertTrue(ProtocolVersion.routesModern(header: "2026-07-28"))
        XCTAssertTrue(ProtocolVersion.routesModern(header: "garbage"))
    }
}
