// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
import XCTest

/// MRTR confirmations (2026-07-28) through the server: round 1 asks, round 2 runs once, and a state that was
/// replayed, altered, borrowed by another principal or moved to other arguments runs nothing.
final class ModernConfirmationTests: XCTestCase {
    let manager = Principal(id: "h", tenant: "t", roles: ["hr", "manager"])
    var auditPath = ""

    override func setUp() { auditPath = NSTemporaryDirectory() + "mrtr-audit-\(UUID().uuidString).jsonl" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: auditPath) }

    func makeServer() throws -> (MCPServer, AuditLog) {
        let sealer = RequestStateSealer(keyMaterial: Array(repeating: 7, count: 32), ttl: .seconds(60), used: UsedRequestStates(capacity: 100))
        return try makePolicyServer(auditPath: auditPath, sealer: sealer)
    }

    func call(_ server: MCPServer, _ p: Principal, args: JSONValue = [:], elicitation: Bool = true, extra: [String: JSONValue] = [:]) async throws -> JSONValue {
        let session = Session(
            modern: RequestEnvelope(protocolVersion: "2026-07-28", clientCapabilities: elicitation ? ["elicitation": [:]] : [:]), ownerID: p.bindingKey,
            transport: .tcp)
        var params: [String: JSONValue] = ["name": "b__fail", "arguments": args]
        params.merge(extra) { $1 }
        let reply = await server.processReply(.request(RPCRequest(id: .int(9), method: "tools/call", params: params)), session: session, principal: p, notify: nil)
        return try JSONParser.parse(try XCTUnwrap(reply?.bytes))["result"] ?? .null
    }

    func accept(_ state: JSONValue?) -> [String: JSONValue] {
        ["requestState": state ?? .null, "inputResponses": ["confirm": ["action": "accept", "content": ["approve": true]]]]
    }

    func errorCode(_ r: JSONValue) -> String? { r["_meta"]?["mcp-broker/error"]?["code"]?.stringValue }
    func text(_ r: JSONValue) -> String { r["content"]?.arrayValue?.first?["text"]?.stringValue ?? "" }

    func testRoundTripRunsOnceAndStatesCannotBeReused() async throws {
        let (server, audit) = try makeServer()
        let ask = try await call(server, manager)
        XCTAssertEqual(ask["resultType"], "input_required")
        XCTAssertEqual(ask["inputRequests"]?["confirm"]?["method"], "elicitation/create")
        XCTAssertEqual(ask["inputRequests"]?["confirm"]?["params"]?["mode"], "form")
        XCTAssertEqual(ask["inputRequests"]?["confirm"]?["params"]?["requestedSchema"]?["properties"]?["approve"]?["type"], "boolean")
        let state = try XCTUnwrap(ask["requestState"]?.stringValue)

        // Approved: the backend ran (b__fail answers with its own business error).
        let ran = try await call(server, manager, extra: accept(.string(state)))
        XCTAssertEqual(errorCode(ran), "not_found")
        XCTAssertEqual(ran["resultType"], "complete")

        // The same state again: refused, nothing runs.
        let replay = try await call(server, manager, extra: accept(.string(state)))
        XCTAssertEqual(errorCode(replay), "forbidden")
        XCTAssertTrue(text(replay).contains("confirmation"), text(replay))

        // Fresh states, each misused one way.
        func fresh() async throws -> String {
            let asked = try await call(server, manager)
            return try XCTUnwrap(asked["requestState"]?.stringValue)
        }
        var altered = Array(try await fresh())
        altered[altered.count / 2] = altered[altered.count / 2] == "A" ? "B" : "A"
        let other = Principal(id: "mallory", tenant: "t", roles: ["hr", "manager"])
        let cases: [(Principal, JSONValue, String)] = [
            (manager, .string(String(altered)), "altered"),
            (other, .string(try await fresh()), "other principal"),
            (manager, .string(try await fresh()), "other arguments"),
            (manager, .string("garbage"), "garbage"),
            (manager, 42, "not a string"),
        ]
        for (who, state, label) in cases {
            let args: JSONValue = label == "other arguments" ? ["x": 1] : [:]
            let r = try await call(server, who, args: args, extra: accept(state))
            XCTAssertEqual(errorCode(r), "forbidden", label)
            XCTAssertTrue(text(r).contains("again"), "\(label): \(text(r))")
        }
        // An answer without its state is refused too.
        let stateless = try await call(server, manager, extra: ["inputResponses": ["confirm": ["action": "accept", "content": ["approve": true]]]])
        XCTAssertEqual(errorCode(stateless), "forbidden")

        audit.flush()
        let lines = try String(contentsOfFile: auditPath, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
        let rules = lines.map { $0["rule"]?.stringValue ?? "" }
        XCTAssertEqual(rules.filter { $0 == "role:manager+confirmed" }.count, 1, "exactly one run: \(rules)")
        XCTAssertTrue(rules.contains("confirm-state-replayed"), "\(rules)")
        XCTAssertTrue(rules.contains("confirm-state-tampered"), "\(rules)")
        XCTAssertTrue(rules.contains("confirm-state-mismatched"), "\(rules)")
        XCTAssertEqual(lines.filter { $0["outcome"] == "input_required" }.count, 4, "round 1 is audited as input_required")
    }

    func testMissingAnswerAsksAgainAndDeclineRunsNothing() async throws {
        let (server, _) = try makeServer()
        let asked = try await call(server, manager)
        let first = try XCTUnwrap(asked["requestState"])
        let again = try await call(server, manager, extra: ["requestState": first])
        XCTAssertEqual(again["resultType"], "input_required", "a valid state without an answer asks again")
        let next = try XCTUnwrap(again["requestState"])
        let declined = try await call(
            server, manager, extra: ["requestState": next, "inputResponses": ["confirm": ["action": "decline"]]])
        XCTAssertEqual(errorCode(declined), "declined")
        let noElicitation = try await call(server, manager, elicitation: false)
        XCTAssertEqual(errorCode(noElicitation), "forbidden")
        XCTAssertTrue(text(noElicitation).contains("does not support MCP elicitation"))
        XCTAssertNil(noElicitation["requestState"])
    }
}
