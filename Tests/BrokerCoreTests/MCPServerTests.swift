// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore
import Synchronization
import XCTest

final class MCPServerTests: XCTestCase {
    let principal = Principal(id: "u1", tenant: "acme")

    func request(_ server: MCPServer, _ session: Session, _ method: String, _ params: [String: JSONValue]? = nil, notify: OutboundSink? = nil) async -> Result<JSONValue, RPCError> {
        await server.dispatch(RPCRequest(id: .int(1), method: method, params: params), session: session, principal: principal, notify: notify)
    }

    func initialized(_ server: MCPServer) async -> Session {
        let s = Session(id: nil, ownerID: "u1")
        _ = await request(server, s, "initialize", ["protocolVersion": "2025-06-18", "capabilities": [:], "clientInfo": ["name": "t", "version": "1"]])
        return s
    }

    func testInitializeNegotiatesAndRefusesASecondTime() async throws {
        let server = try makeServer(backends: [TestBackend(name: "a")])
        let s = Session(id: nil, ownerID: "u1")
        let before = await request(server, s, "tools/list")
        XCTAssertEqual(try? before.get(), nil)
        if case .failure(let e) = before { XCTAssertEqual(e.code, -32600) }
        let r = try await request(server, s, "initialize", ["protocolVersion": "1999-01-01"]).get()
        XCTAssertEqual(r["protocolVersion"], "2025-11-25")
        XCTAssertNotNil(r["capabilities"]?["tools"])
        if case .failure(let e) = await request(server, s, "initialize", ["protocolVersion": "2025-11-25"]) { XCTAssertEqual(e.code, -32600) } else { XCTFail() }
        if case .failure(let e) = await request(server, s, "server/discover") { XCTAssertEqual(e.code, -32601) } else { XCTFail() }
        if case .failure(let e) = await request(server, s, "no/such") { XCTAssertEqual(e.code, -32601) } else { XCTFail() }
    }

    func testToolsListPaginatesWithOpaqueCursors() async throws {
        let server = try makeServer(backends: [TestBackend(name: "a", toolCount: 7), TestBackend(name: "b", toolCount: 7)], pageSize: 5)
        let s = await initialized(server)
        var names: [String] = []
        var cursor: JSONValue?
        var pages = 0
        repeat {
            let r = try await request(server, s, "tools/list", cursor.map { ["cursor": $0] }).get()
            names += r["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            cursor = r["nextCursor"]
            pages += 1
        } while cursor != nil
        XCTAssertEqual(pages, 3)
        XCTAssertEqual(names.count, 14)
        XCTAssertEqual(Set(names).count, 14)
        XCTAssertTrue(names.contains("b__echo"))
        if case .failure(let e) = await request(server, s, "tools/list", ["cursor": "garbage"]) { XCTAssertEqual(e.code, -32602) } else { XCTFail() }
    }

    func testCallRoutesValidatesAndMapsErrors() async throws {
        let backend = TestBackend(name: "a")
        let server = try makeServer(backends: [backend])
        let s = await initialized(server)
        let ok = try await request(server, s, "tools/call", ["name": "a__echo", "arguments": ["text": "hi"]]).get()
        XCTAssertEqual(ok["structuredContent"]?["text"], "hi")
        XCTAssertNil(ok["isError"])

        if case .failure(let e) = await request(server, s, "tools/call", ["name": "a__nope"]) {
            XCTAssertEqual(e.code, -32602)
            XCTAssertEqual(e.message, "Unknown tool: a__nope")
        } else { XCTFail() }

        let bad = try await request(server, s, "tools/call", ["name": "a__echo", "arguments": ["text": 5]]).get()
        XCTAssertEqual(bad["isError"], true)
        let badText = bad["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        XCTAssertTrue(badText.hasPrefix("Invalid arguments for a__echo: 'text' must be string, got integer."), badText)
        XCTAssertEqual(backend.calls.withLock { $0 }, 1, "invalid arguments must not reach the backend")

        let fail = try await request(server, s, "tools/call", ["name": "a__fail"]).get()
        let failText = fail["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        XCTAssertTrue(failText.hasPrefix("Order 4711 not found. [not_found; correlation id "), failText)
        XCTAssertEqual(fail["_meta"]?["mcp-broker/error"]?["code"], "not_found")

        let crash = try await request(server, s, "tools/call", ["name": "a__crash"]).get()
        let crashText = crash["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        XCTAssertEqual(crash["isError"], true)
        XCTAssertFalse(crashText.contains("hunter2"))
        XCTAssertTrue(crashText.contains("internal"), crashText)
    }

    func testProgressIsStrictlyIncreasingAndOnlyWithAToken() async throws {
        let server = try makeServer(backends: [TestBackend(name: "a")])
        let s = await initialized(server)
        let log = NotificationLog()
        _ = try await request(server, s, "tools/call", ["name": "a__slow", "arguments": ["steps": 4], "_meta": ["progressToken": "p1"]], notify: log.sink).get()
        let values = log.all.filter { $0.method == "notifications/progress" }.compactMap { $0.params?["progress"]?.doubleValue }
        XCTAssertEqual(values, [1, 2, 3, 4])
        XCTAssertEqual(log.all.first?.params?["progressToken"], "p1")
        let quiet = NotificationLog()
        _ = try await request(server, s, "tools/call", ["name": "a__slow", "arguments": ["steps": 2]], notify: quiet.sink).get()
        XCTAssertTrue(quiet.all.isEmpty)
    }

    func testDeadlineCancelsSlowCalls() async throws {
        let server = try makeServer(backends: [TestBackend(name: "a")], timeoutMs: 150)
        let s = await initialized(server)
        let start = ContinuousClock.now
        let r = try await request(server, s, "tools/call", ["name": "a__slow", "arguments": ["steps": 50, "delay_ms": 100]]).get()
        XCTAssertEqual(r["isError"], true)
        XCTAssertEqual(r["_meta"]?["mcp-broker/error"]?["code"], "timeout")
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(2))
    }

    func testCancellationSuppressesTheResponse() async throws {
        let server = try makeServer(backends: [TestBackend(name: "a")])
        let s = await initialized(server)
        let principal = self.principal
        let call = Task {
            await server.process(
                .request(RPCRequest(id: .string("c1"), method: "tools/call", params: ["name": "a__slow", "arguments": ["steps": 100, "delay_ms": 50]])),
                session: s, principal: principal, notify: nil)
        }
        try await Task.sleep(for: .milliseconds(100))
        _ = await server.process(.notification(RPCNotification(method: "notifications/cancelled", params: ["requestId": "c1"])), session: s, principal: principal, notify: nil)
        let start = ContinuousClock.now
        let reply = await call.value
        XCTAssertNil(reply, "a cancelled request gets no response")
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1))
    }

    func testCancelArrivingRightBehindItsRequestIsHonoured() async throws {
        let server = try makeServer(backends: [TestBackend(name: "a")])
        let s = await initialized(server)
        for i in 0..<20 {
            let id = RequestID.string("r\(i)")
            let task = server.start(
                RPCRequest(id: id, method: "tools/call", params: ["name": "a__slow", "arguments": ["steps": 5, "delay_ms": 20]]),
                session: s, principal: principal, notify: nil)
            _ = await server.process(.notification(RPCNotification(method: "notifications/cancelled", params: ["requestId": id.json])), session: s, principal: principal, notify: nil)
            let reply = await task.value
            XCTAssertNil(reply, "request \(i) was cancelled before its task ran; it must get no response")
        }
    }

    func testResourcesPromptsAndLogging() async throws {
        let server = try makeServer(backends: [TestBackend(name: "a")])
        let s = await initialized(server)
        let list = try await request(server, s, "resources/list").get()
        XCTAssertEqual(list["resources"]?.arrayValue?.first?["uri"], "broker://a/ref/codes")
        let read = try await request(server, s, "resources/read", ["uri": "broker://a/ref/codes"]).get()
        XCTAssertEqual(read["contents"]?.arrayValue?.first?["text"], #"{"codes":[1]}"#)
        if case .failure(let e) = await request(server, s, "resources/read", ["uri": "broker://a/nope"]) {
            XCTAssertEqual(e.code, -32002)
            XCTAssertEqual(e.data?["uri"], "broker://a/nope")
        } else { XCTFail() }
        if case .failure(let e) = await request(server, s, "resources/read", ["uri": "file:///etc/passwd"]) { XCTAssertEqual(e.code, -32002) } else { XCTFail() }
        let prompt = try await request(server, s, "prompts/get", ["name": "a__brief", "arguments": ["topic": "x"]]).get()
        XCTAssertEqual(prompt["messages"]?.arrayValue?.first?["content"]?["text"], "Brief on x")
        if case .failure(let e) = await request(server, s, "prompts/get", ["name": "a__brief"]) {
            XCTAssertEqual(e.code, -32602)
            XCTAssertEqual(e.message, "Missing required argument 'topic' for prompt a__brief")
        } else { XCTFail() }
        if case .failure(let e) = await request(server, s, "logging/setLevel", ["level": "loud"]) { XCTAssertEqual(e.code, -32602) } else { XCTFail() }
        _ = try await request(server, s, "logging/setLevel", ["level": "warning"]).get()
        XCTAssertEqual(s.logLevel, .warning)
    }
}
