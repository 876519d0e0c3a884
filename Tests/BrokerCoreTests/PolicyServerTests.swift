// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
import Synchronization
import XCTest

/// Policy through the MCP server: lists show exactly what may be called, hidden names answer like unknown
/// ones, argument rules refuse with a business message, confirmation goes through elicitation, and every
/// decision is audited without argument values.
/// A server over test backends `a` and `b` with ``PolicyTests/yaml`` as its policy, auditing to `auditPath`.
func makePolicyServer(auditPath: String, sealer: RequestStateSealer? = nil) throws -> (MCPServer, AuditLog) {
    var settings = try BrokerConfiguration.parse(yaml: PolicyTests.yaml).server
    settings.pageSize = 100
    let catalog = try Catalog(backends: [TestBackend(name: "a"), TestBackend(name: "b")], separator: "__")
    try settings.policy.validate(against: catalog, file: "p.yaml")
    let audit = try AuditLog(settings: AuditSettings(path: auditPath))
    return (MCPServer(catalog: catalog, settings: settings, audit: audit, logger: Logger(label: "policy-test"), sealer: sealer), audit)
}

final class PolicyServerTests: XCTestCase {
    var auditPath = ""

    override func setUp() {
        auditPath = NSTemporaryDirectory() + "audit-\(UUID().uuidString).jsonl"
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: auditPath) }

    func makePolicyServer() throws -> (MCPServer, AuditLog) { try BrokerCoreTests.makePolicyServer(auditPath: auditPath) }

    func session(_ server: MCPServer, _ p: Principal, elicitation: Bool = false) async -> Session {
        let s = Session(id: nil, ownerID: p.bindingKey)
        let caps: JSONValue = elicitation ? ["elicitation": [:]] : [:]
        _ = await server.dispatch(
            RPCRequest(id: .int(0), method: "initialize", params: ["protocolVersion": "2025-11-25", "capabilities": caps]), session: s, principal: p,
            notify: nil)
        return s
    }

    func call(_ server: MCPServer, _ s: Session, _ p: Principal, _ name: String, _ args: JSONValue = [:], notify: OutboundSink? = nil) async
        -> Result<JSONValue, RPCError>
    {
        await server.dispatch(RPCRequest(id: .int(7), method: "tools/call", params: ["name": .string(name), "arguments": args]), session: s, principal: p, notify: notify)
    }

    func listedTools(_ server: MCPServer, _ s: Session, _ p: Principal) async throws -> [String] {
        let r = try await server.dispatch(RPCRequest(id: .int(1), method: "tools/list"), session: s, principal: p, notify: nil).get()
        return r["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
    }

    func auditLines(_ audit: AuditLog) throws -> [JSONValue] {
        audit.flush()
        let text = try String(contentsOfFile: auditPath, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    func testListEqualsCallForEveryRole() async throws {
        let (server, _) = try makePolicyServer()
        let everyTool = server.catalog.tools.map(\.fullName)
        let principals = [
            Principal(id: "n", tenant: "t"), Principal(id: "a", tenant: "t", roles: ["analyst"]),
            Principal(id: "m", tenant: "t", roles: ["manager"]), Principal(id: "h", tenant: "t", roles: ["manager", "hr"]),
        ]
        for p in principals {
            let s = await session(server, p)
            let listed = Set(try await listedTools(server, s, p))
            for tool in everyTool {
                let r = await call(server, s, p, tool, ["text": "x", "steps": 1, "delay_ms": 0])
                if listed.contains(tool) {
                    XCTAssertNotNil(try? r.get(), "\(p.roles) lists \(tool) but cannot call it")
                } else {
                    guard case .failure(let e) = r else { return XCTFail("\(p.roles) can call unlisted \(tool)") }
                    XCTAssertEqual(e, RPCError.invalidParams("Unknown tool: \(tool)"))
                }
            }
        }
    }

    func testHiddenToolIsIndistinguishableFromUnknown() async throws {
        let (server, _) = try makePolicyServer()
        let p = Principal(id: "m", tenant: "t", roles: ["manager"])
        let s = await session(server, p)
        guard case .failure(let hidden) = await call(server, s, p, "b__fail"), case .failure(let unknown) = await call(server, s, p, "b__nope")
        else { return XCTFail("both must be protocol errors") }
        XCTAssertEqual(hidden.code, unknown.code)
        XCTAssertEqual(hidden.message.replacingOccurrences(of: "b__fail", with: "X"), unknown.message.replacingOccurrences(of: "b__nope", with: "X"))
        XCTAssertEqual(hidden.data, unknown.data)
    }

    func testArgumentDenialIsABusinessErrorAndAudited() async throws {
        let (server, audit) = try makePolicyServer()
        let p = Principal(id: "m", tenant: "t", roles: ["manager"])
        let s = await session(server, p)
        let r = try await call(server, s, p, "b__slow", ["steps": 5, "delay_ms": 0]).get()
        XCTAssertEqual(r["isError"], true)
        let text = r["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        XCTAssertTrue(text.hasPrefix("Not allowed by policy limited-steps: Only one or two steps."), text)
        XCTAssertEqual(r["_meta"]?["mcp-broker/error"]?["code"], "forbidden")
        _ = try await call(server, s, p, "b__slow", ["steps": 1, "delay_ms": 0]).get()
        _ = await call(server, s, p, "b__fail", ["secret_value": "hunter2"])
        let lines = try auditLines(audit)
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(lines[0]["decision"], "denied")
        XCTAssertEqual(lines[0]["rule"], "limited-steps")
        XCTAssertEqual(lines[0]["outcome"], "not_run")
        XCTAssertEqual(lines[1]["decision"], "allowed")
        XCTAssertEqual(lines[1]["rule"], "role:manager")
        XCTAssertEqual(lines[1]["outcome"], "ok")
        XCTAssertEqual(lines[1]["backend"], "b")
        XCTAssertEqual(lines[2]["decision"], "denied")
        XCTAssertEqual(lines[2]["rule"], "fail-needs-hr")
        for line in lines {
            XCTAssertEqual(line["principal"], "m")
            XCTAssertEqual(line["tenant"], "t")
            XCTAssertEqual(line["args_sha256"]?.stringValue?.count, 64)
            XCTAssertEqual(line["correlation_id"]?.stringValue?.count, 32)
        }
        let raw = try String(contentsOfFile: auditPath, encoding: .utf8)
        XCTAssertFalse(raw.contains("hunter2"), "argument values must never reach the audit log")
        // Equal arguments give equal digests, so repeated calls correlate without being readable.
        XCTAssertEqual(audit.digest(["steps": 5, "delay_ms": 0]), lines[0]["args_sha256"]?.stringValue)
    }

    func testListsAreFilteredForResourcesAndPrompts() async throws {
        let (server, _) = try makePolicyServer()
        let p = Principal(id: "a", tenant: "t", roles: ["analyst"])
        let s = await session(server, p)
        let resources = try await server.dispatch(RPCRequest(id: .int(1), method: "resources/list"), session: s, principal: p, notify: nil).get()
        XCTAssertEqual(resources["resources"]?.arrayValue?.compactMap { $0["uri"]?.stringValue }, ["broker://a/ref/codes"])
        let prompts = try await server.dispatch(RPCRequest(id: .int(1), method: "prompts/list"), session: s, principal: p, notify: nil).get()
        XCTAssertEqual(prompts["prompts"]?.arrayValue?.compactMap { $0["name"]?.stringValue }, ["a__brief"])
        let read = await server.dispatch(
            RPCRequest(id: .int(1), method: "resources/read", params: ["uri": "broker://b/ref/codes"]), session: s, principal: p, notify: nil)
        guard case .failure(let e) = read else { return XCTFail("a hidden resource must not be readable") }
        XCTAssertEqual(e.code, RPCErrorCode.resourceNotFound)
        let prompt = await server.dispatch(
            RPCRequest(id: .int(1), method: "prompts/get", params: ["name": "b__brief", "arguments": ["topic": "x"]]), session: s, principal: p, notify: nil)
        guard case .failure(let pe) = prompt else { return XCTFail("a hidden prompt must not be gettable") }
        XCTAssertEqual(pe, .invalidParams("Unknown prompt: b__brief"))
    }

    func testDestructiveOverrideShowsInTheList() async throws {
        let (server, _) = try makePolicyServer()
        let p = Principal(id: "h", tenant: "t", roles: ["hr", "manager"])
        let s = await session(server, p)
        let r = try await server.dispatch(RPCRequest(id: .int(1), method: "tools/list"), session: s, principal: p, notify: nil).get()
        let fail = r["tools"]?.arrayValue?.first { $0["name"] == "b__fail" }
        XCTAssertEqual(fail?["annotations"]?["destructiveHint"], true)
        XCTAssertEqual(fail?["annotations"]?["readOnlyHint"], false)
    }

    func testConfirmationThroughElicitation() async throws {
        let (server, audit) = try makePolicyServer()
        let p = Principal(id: "h", tenant: "t", roles: ["hr", "manager"])
        for (answer, expectCode) in [("accept", nil), ("decline", "declined")] as [(String, String?)] {
            let s = await session(server, p, elicitation: true)
            let client = NotificationLog { request in
                // The client answers on the session, as a POST or a stdin line would.
                let content: JSONValue = answer == "accept" ? ["approve": true] : .null
                let reply = RPCResponse(id: request.id, result: ["action": .string(answer), "content": content], error: nil)
                Task { _ = await server.process(.response(reply), session: s, principal: p, notify: nil) }
            }
            let r = try await call(server, s, p, "b__fail", [:], notify: client.sink).get()
            let asked = client.requests.withLock { $0 }
            XCTAssertEqual(asked.map(\.method), ["elicitation/create"])
            XCTAssertTrue(asked.first?.params?["message"]?.stringValue?.contains("b__fail") ?? false)
            if let expectCode {
                XCTAssertEqual(r["_meta"]?["mcp-broker/error"]?["code"], .string(expectCode))
            } else {
                // Approved: the backend ran (and failed with its own business error).
                XCTAssertEqual(r["_meta"]?["mcp-broker/error"]?["code"], "not_found")
            }
        }
        // A client without elicitation is refused with the reason, and nothing runs.
        let s = await session(server, p, elicitation: false)
        let r = try await call(server, s, p, "b__fail", [:], notify: NotificationLog().sink).get()
        XCTAssertEqual(r["_meta"]?["mcp-broker/error"]?["code"], "forbidden")
        XCTAssertTrue(r["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("does not support MCP elicitation") ?? false)
        let lines = try auditLines(audit)
        XCTAssertEqual(lines.map { $0["rule"]?.stringValue ?? "" }, ["role:manager+confirmed", "role:manager", "confirm-unsupported"])
        XCTAssertEqual(lines.map { $0["outcome"]?.stringValue ?? "" }, ["not_found", "declined", "not_run"])
    }

    func testUnansweredConfirmationTimesOut() async throws {
        var settings = try BrokerConfiguration.parse(yaml: PolicyTests.yaml).server
        settings.defaultTimeoutMilliseconds = 200
        let catalog = try Catalog(backends: [TestBackend(name: "a"), TestBackend(name: "b")], separator: "__")
        let server = MCPServer(catalog: catalog, settings: settings, logger: Logger(label: "policy-test"))
        let p = Principal(id: "h", tenant: "t", roles: ["hr", "manager"])
        let s = await session(server, p, elicitation: true)
        let r = try await call(server, s, p, "b__fail", [:], notify: NotificationLog().sink).get()
        XCTAssertEqual(r["_meta"]?["mcp-broker/error"]?["code"], "timeout")
    }
}
