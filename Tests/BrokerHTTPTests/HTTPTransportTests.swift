// SPDX-License-Identifier: Apache-2.0

import BrokerBackendMockHR
import BrokerCore
import BrokerHTTP
import Foundation
import Logging
import MCPCore
import ServiceLifecycle
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// In-process tests of the Streamable HTTP transport over a real loopback socket, with the real mock HR backend.
final class HTTPTransportTests: XCTestCase {
    typealias Reply = HTTPReply

    static let config = """
        server:
          page_size: 3
          http: { port: 0, max_body_bytes: 4096 }
        backends:
          hr:
            kind: mock-hr
            credentials: { api_key: env:HTTP_TEST_HR_KEY }
            system: { tenants: [default], api_key: env:HTTP_TEST_HR_KEY, employees: 300 }
        policy:
          roles: { "*": { tools: ["*"], resources: ["*"], prompts: ["*"] } }
        """

    func withServer(_ body: (URL) async throws -> Void) async throws {
        setenv("HTTP_TEST_HR_KEY", "k-\(UUID().uuidString)", 1)
        let configuration = try BrokerConfiguration.parse(yaml: Self.config, file: "http-test.yaml")
        var registry = BackendRegistry()
        registry.register(MockHR.kind)
        let logger = Logger(label: "http-test")
        let broker = try Broker(configuration: configuration, registry: registry, logger: logger)
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let services = HTTPTransport.makeServices(broker: broker, logger: logger) { port in portContinuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { return XCTFail("server did not start") }
        guard let url = URL(string: "http://127.0.0.1:\(port)/mcp") else { return XCTFail("bad url") }
        do {
            try await body(url)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }

    func send(_ url: URL, method: String = "POST", body: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        try await httpSend(url, method: method, body: body, headers: headers)
    }

    func initialize(_ url: URL) async throws -> String {
        let r = try await send(url, body: #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.json?["result"]?["protocolVersion"], "2025-11-25")
        let id = r.headers["mcp-session-id"] ?? ""
        XCTAssertEqual(id.count, 32, "128-bit session id as hex")
        XCTAssertTrue(id.allSatisfy(\.isHexDigit))
        let note = try await send(url, body: #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, headers: ["Mcp-Session-Id": id, "MCP-Protocol-Version": "2025-11-25"])
        XCTAssertEqual(note.status, 202)
        XCTAssertTrue(note.body.isEmpty)
        return id
    }

    func testSessionLifecycleAndCalls() async throws {
        try await withServer { url in
            let id = try await initialize(url)
            let h = ["Mcp-Session-Id": id, "MCP-Protocol-Version": "2025-11-25"]
            let list = try await send(url, body: #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#, headers: h)
            XCTAssertEqual(list.status, 200)
            XCTAssertEqual(list.json?["result"]?["tools"]?.arrayValue?.count, 3)
            XCTAssertNotNil(list.json?["result"]?["nextCursor"]?.stringValue)
            let call = try await send(url, body: #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"hr__list_departments","arguments":{}}}"#, headers: h)
            XCTAssertEqual(call.status, 200)
            XCTAssertNil(call.json?["result"]?["isError"])
            XCTAssertNotNil(call.json?["result"]?["structuredContent"])
            let del = try await send(url, method: "DELETE", headers: h)
            XCTAssertEqual(del.status, 200)
            let after = try await send(url, body: #"{"jsonrpc":"2.0","id":4,"method":"ping"}"#, headers: h)
            XCTAssertEqual(after.status, 404)
        }
    }

    func testHostileAndMalformedRequestsGetExactErrors() async throws {
        try await withServer { url in
            let id = try await initialize(url)
            let h = ["Mcp-Session-Id": id]
            let parse = try await send(url, body: "{nope", headers: h)
            XCTAssertEqual(parse.status, 400)
            XCTAssertEqual(parse.json?["error"]?["code"], -32700)
            let batch = try await send(url, body: #"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, headers: h)
            XCTAssertEqual(batch.status, 400)
            XCTAssertEqual(batch.json?["error"]?["code"], -32600)
            let big = try await send(url, body: "{\"x\":\"" + String(repeating: "a", count: 8000) + "\"}", headers: h)
            XCTAssertEqual(big.status, 413)
            let origin = try await send(url, body: #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, headers: h.merging(["Origin": "http://evil.example"]) { $1 })
            XCTAssertEqual(origin.status, 403)
            let version = try await send(url, body: #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, headers: h.merging(["MCP-Protocol-Version": "1999-01-01"]) { $1 })
            XCTAssertEqual(version.status, 400)
            let noSession = try await send(url, body: #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
            XCTAssertEqual(noSession.status, 400)
            let unknown = try await send(url, body: #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, headers: ["Mcp-Session-Id": String(repeating: "0", count: 32)])
            XCTAssertEqual(unknown.status, 404)
            let type = try await send(url, body: "x", headers: h.merging(["Content-Type": "text/plain"]) { $1 })
            XCTAssertEqual(type.status, 415)
            let put = try await send(url, method: "PUT", body: "{}", headers: h)
            XCTAssertEqual(put.status, 405)
            XCTAssertEqual(put.headers["allow"], "GET, POST, DELETE")
            let method = try await send(url, body: #"{"jsonrpc":"2.0","id":9,"method":"bogus/method"}"#, headers: h)
            XCTAssertEqual(method.json?["error"]?["code"], -32601)
            XCTAssertEqual(method.json?["id"], 9)
        }
    }

    func testProgressStreamsAsSSEOnThePost() async throws {
        try await withServer { url in
            let id = try await initialize(url)
            let body = #"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"hr__headcount_report","arguments":{},"_meta":{"progressToken":"tok"}}}"#
            let r = try await send(url, body: body, headers: ["Mcp-Session-Id": id])
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.headers["content-type"], "text/event-stream")
            let events = String(decoding: r.body, as: UTF8.self).components(separatedBy: "\n\n").filter { $0.hasPrefix("event: message") }
            let messages = events.compactMap { try? JSONParser.parse(String($0.dropFirst("event: message\ndata: ".count))) }
            let progress = messages.filter { $0["method"] == "notifications/progress" }
            XCTAssertGreaterThanOrEqual(progress.count, 1)
            XCTAssertEqual(messages.last?["id"], 5, "the response comes last")
            XCTAssertNotNil(messages.last?["result"]?["structuredContent"])
        }
    }

    func testHealthEndpoints() async throws {
        try await withServer { url in
            guard let base = URL(string: "/", relativeTo: url)?.absoluteURL else { return XCTFail() }
            let live = try await send(base.appendingPathComponent("livez"), method: "GET")
            XCTAssertEqual(live.status, 200)
            let ready = try await send(base.appendingPathComponent("readyz"), method: "GET")
            XCTAssertEqual(ready.status, 200)
            XCTAssertEqual(ready.json?["status"], "ready")
            XCTAssertEqual(ready.json?["backends"]?["hr"]?["status"], "up")
        }
    }
}
