// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import SharedStateTestSupport
import Foundation
import Logging
import MCPCore
import XCTest

/// 2026-07-28 confirmations across replicas: with a shared store a requestState opens once in the whole deployment,
/// whichever replica round 2 and its replay reach; with the store down each replica falls back to its own set.
final class SharedConfirmationTests: XCTestCase {
    let manager = Principal(id: "h", tenant: "t", roles: ["hr", "manager"])

    /// A replica: the policy server of ``PolicyTests``, its own used-state set (its own process), the deployment's
    /// request_state key.
    func replica(_ shared: SharedState, metrics: BrokerMetrics = .disabled) throws -> MCPServer {
        var settings = try BrokerConfiguration.parse(yaml: PolicyTests.yaml).server
        settings.pageSize = 100
        let catalog = try Catalog(backends: [TestBackend(name: "a"), TestBackend(name: "b")], separator: "__")
        try settings.policy.validate(against: catalog, file: "p.yaml")
        let sealer = RequestStateSealer(keyMaterial: Array(repeating: 7, count: 32), ttl: .seconds(60), used: UsedRequestStates(capacity: 100))
        return MCPServer(catalog: catalog, settings: settings, metrics: metrics, logger: Logger(label: "shared-mrtr"), sealer: sealer, shared: shared)
    }

    func call(_ server: MCPServer, extra: [String: JSONValue] = [:]) async throws -> JSONValue {
        let session = Session(
            modern: RequestEnvelope(protocolVersion: "2026-07-28", clientCapabilities: ["elicitation": [:]]), ownerID: manager.bindingKey, transport: .tcp)
        var params: [String: JSONValue] = ["name": "b__fail", "arguments": [:]]
        params.merge(extra) { $1 }
        let reply = await server.processReply(.request(RPCRequest(id: .int(9), method: "tools/call", params: params)), session: session, principal: manager, notify: nil)
        return try JSONParser.parse(try XCTUnwrap(reply?.bytes))["result"] ?? .null
    }

    /// Round 1 on `server`: the sealed state.
    func ask(_ server: MCPServer) async throws -> String {
        let asked = try await call(server)
        XCTAssertEqual(asked["resultType"], "input_required")
        return try XCTUnwrap(asked["requestState"]?.stringValue)
    }

    /// Round 2 with an approval: the error code of the result (`not_found`: b__fail ran; `forbidden`: refused).
    func approve(_ server: MCPServer, _ state: String) async throws -> String? {
        let r = try await call(server, extra: ["requestState": .string(state), "inputResponses": ["confirm": ["action": "accept", "content": ["approve": true]]]])
        return r["_meta"]?["mcp-broker/error"]?["code"]?.stringValue
    }

    func testAReplayToAnotherReplicaIsRefusedWithASharedStore() async throws {
        let store = MemorySharedStore()
        let fixture = MetricsFixture()
        let shared = SharedState(store: store, replicas: .fixed(2))
        let a = try replica(shared, metrics: fixture.metrics), b = try replica(shared, metrics: fixture.metrics)
        let state = try await ask(a)
        let ran = try await approve(b, state)
        XCTAssertEqual(ran, "not_found", "round 2 on the other replica runs the tool")
        let replayA = try await approve(a, state)
        XCTAssertEqual(replayA, "forbidden", "the replica that issued it refuses the replay")
        let replayB = try await approve(b, state)
        XCTAssertEqual(replayB, "forbidden")
        let claims = store.keysSeen.filter { $0.hasPrefix("rs:") }
        XCTAssertEqual(claims.count, 3, "one claim per round 2: \(claims)")
        XCTAssertEqual(Set(claims).count, 1)
        XCTAssertEqual(claims.first?.utf8.count, 35, "rs: and 128 bits in hex")
        XCTAssertEqual(fixture.value(#"mcp_broker_shared_state_fallbacks_total{operation="request_state"}"#), 0)

        // Without the store each replica only knows its own uses: the same replay opens once more elsewhere.
        let c = try replica(.local), d = try replica(.local)
        let local = try await ask(c)
        let first = try await approve(d, local)
        let again = try await approve(c, local)
        XCTAssertEqual(first, "not_found")
        XCTAssertEqual(again, "not_found", "per-process single use, as documented for a broker without a store")
    }

    func testStoreDownFallsBackToTheLocalSetAndCountsIt() async throws {
        let store = MemorySharedStore()
        let fixture = MetricsFixture()
        let shared = SharedState(store: store, replicas: .fixed(2))
        let a = try replica(shared, metrics: fixture.metrics), b = try replica(shared, metrics: fixture.metrics)

        // Used while the store answered: recorded locally too, so this replica still refuses it while the store is down.
        let early = try await ask(a)
        let earlyRan = try await approve(a, early)
        XCTAssertEqual(earlyRan, "not_found")

        store.down()
        let attempts = store.attempts
        let earlyReplay = try await approve(a, early)
        XCTAssertEqual(earlyReplay, "forbidden")
        let state = try await ask(a)
        let ran = try await approve(b, state)
        XCTAssertEqual(ran, "not_found", "a call never fails because the store is down")
        let replay = try await approve(b, state)
        XCTAssertEqual(replay, "forbidden", "the replica's own set still refuses a replay to it")
        XCTAssertEqual(store.attempts, attempts, "an unavailable store is not asked")
        XCTAssertEqual(fixture.value(#"mcp_broker_shared_state_fallbacks_total{operation="request_state"}"#), 3)

        store.up()
        let fresh = try await ask(b)
        let freshRan = try await approve(a, fresh)
        let freshReplay = try await approve(b, fresh)
        XCTAssertEqual(freshRan, "not_found")
        XCTAssertEqual(freshReplay, "forbidden", "shared again once the store is back")
        XCTAssertEqual(fixture.value(#"mcp_broker_shared_state_fallbacks_total{operation="request_state"}"#), 3)
    }
}
