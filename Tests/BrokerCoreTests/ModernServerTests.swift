// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
import XCTest

/// The 2026-07-28 era through the transport-independent server: discover, removed methods, the result fields on
/// every path (value, encoded list page, relayed tool document), and MRTR confirmations whose state cannot be
/// replayed, altered or borrowed.
final class ModernServerTests: XCTestCase {
    let principal = Principal(id: "u1", tenant: "acme")

    func modern(_ p: Principal, elicitation: Bool = false, logLevel: LogLevel? = nil) -> Session {
        Session(
            modern: RequestEnvelope(protocolVersion: "2026-07-28", clientCapabilities: elicitation ? ["elicitation": [:]] : [:], logLevel: logLevel),
            ownerID: p.bindingKey, transport: .pipe)
    }

    /// The decoded `result` (or `error`) of one request run the way transports run it.
    func send(_ server: MCPServer, _ s: Session, _ p: Principal, _ method: String, _ params: [String: JSONValue] = [:]) async throws -> JSONValue {
        let reply = await server.processReply(.request(RPCRequest(id: .int(3), method: method, params: params)), session: s, principal: p, notify: nil)
        let bytes = try XCTUnwrap(reply?.bytes)
        let message = try JSONParser.parse(bytes)
        return message["result"] ?? message["error"] ?? .null
    }

    func testDiscoverListsBothErasAndIsPublic() async throws {
        let server = try makeServer(backends: [TestBackend(name: "a")])
        let r = try await send(server, modern(principal), "server/discover")
        XCTAssertEqual(r["resultType"], "complete")
        XCTAssertEqual(r["supportedVersions"]?.arrayValue?.first, "2026-07-28")
        XCTAssertTrue(r["supportedVersions"]?.arrayValue?.contains("2025-11-25") ?? false)
        XCTAssertEqual(r["cacheScope"], "public")
        XCTAssertEqual(r["ttlMs"], 0)
        XCTAssertEqual(r["capabilities"]?["tools"]?["listChanged"], true)
        XCTAssertEqual(r["_meta"]?["io.modelcontextprotocol/serverInfo"]?["name"], "mcp-broker")
        XCTAssertNotNil(r["instructions"]?.stringValue)
    }

    func testRemovedMethodsAreUnknownAndInitializeIsRefused() async throws {
        let server = try makeServer(backends: [TestBackend(name: "a")])
        for method in ["ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe", "bogus/x"] {
            let e = try await send(server, modern(principal), method)
            XCTAssertEqual(e["code"], -32601, method)
        }
        let e = try await send(server, modern(principal), "initialize", ["protocolVersion": "2025-11-25"])
        XCTAssertEqual(e["code"], -32022)
        XCTAssertEqual(e["data"]?["supported"], ["2026-07-28"])
    }

    func testEveryResultPathCarriesTheModernFields() async throws {
        let server = try makeServer(backends: [TestBackend(name: "a", toolCount: 3)], pageSize: 2)
        // tools/list: the encoded page path, twice (the second is a cache hit), and its cursor page.
        for _ in 0..<2 {
            let page = try await send(server, modern(principal), "tools/list")
            XCTAssertEqual(page["resultType"], "complete")
            XCTAssertEqual(page["cacheScope"], "private")
            XCTAssertEqual(page["ttlMs"], 0)
            XCTAssertEqual(page["_meta"]?["io.modelcontextprotocol/serverInfo"]?["name"], "mcp-broker")
            XCTAssertEqual(page["tools"]?.arrayValue?.count, 2)
        }
        for method in ["prompts/list", "resources/list", "resources/templates/list"] {
            let r = try await send(server, modern(principal), method)
            XCTAssertEqual(r["cacheScope"], "private", method)
            XCTAssertEqual(r["resultType"], "complete", method)
        }
        let call = try await send(server, modern(principal), "tools/call", ["name": "a__echo", "arguments": ["text": "hi"]])
        XCTAssertEqual(call["resultType"], "complete")
        XCTAssertNil(call["cacheScope"], "tools/call is not cacheable")
        XCTAssertEqual(call["structuredContent"]?["text"], "hi")
        let failed = try await send(server, modern(principal), "tools/call", ["name": "a__fail", "arguments": [:]])
        XCTAssertEqual(failed["isError"], true)
        XCTAssertEqual(failed["resultType"], "complete")
        XCTAssertNotNil(failed["_meta"]?["mcp-broker/error"], "the error details survive beside serverInfo")
        XCTAssertNotNil(failed["_meta"]?["io.modelcontextprotocol/serverInfo"])
        // The handshake era is untouched: the same list without any of the 2026 fields.
        let legacy = Session(id: nil, ownerID: principal.bindingKey)
        _ = await server.dispatch(RPCRequest(id: .int(0), method: "initialize", params: ["protocolVersion": "2025-11-25"]), session: legacy, principal: principal, notify: nil)
        let old = try await send(server, legacy, principal, "tools/list")
        XCTAssertNil(old["resultType"])
        XCTAssertNil(old["cacheScope"])
        XCTAssertEqual(old["tools"]?.arrayValue?.count, 2)
    }

    func testUnknownResourceIsInvalidParamsWithTheURI() async throws {
        let server = try makeServer(backends: [TestBackend(name: "a")])
        let e = try await send(server, modern(principal), "resources/read", ["uri": "broker://a/none"])
        XCTAssertEqual(e["code"], -32602)
        XCTAssertEqual(e["data"]?["uri"], "broker://a/none")
    }
}

extension ModernServerTests {
    func send(_ server: MCPServer, _ s: Session, _ method: String, _ params: [String: JSONValue] = [:]) async throws -> JSONValue {
        try await send(server, s, principal, method, params)
    }
}
