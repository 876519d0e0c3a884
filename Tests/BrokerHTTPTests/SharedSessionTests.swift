// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import SharedStateTestSupport
@testable import BrokerHTTP
import Foundation
import Logging
import MCPCore
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// 2025-11-25 sessions across replicas: two (or three) real HTTP brokers sharing one in-memory store and one key.
final class SharedSessionTests: XCTestCase {
    static let a = "aaaaaaaaaaaaaaaa", b = "bbbbbbbbbbbbbbbb", c = "cccccccccccccccc"
    let sealer = SessionIDSealer(material: KeyMaterial(current: Array(Replicas.key.utf8)))

    func withReplicas(_ ids: [String] = [a, b], principals: [String: String] = [:], _ body: (MemorySharedStore, [URL]) async throws -> Void) async throws {
        let store = MemorySharedStore()
        var running: [Replicas.Replica] = []
        for id in ids { running.append(try await Replicas.start(store, replicaID: id, principal: principals[id] ?? "alice")) }
        do {
            try await body(store, running.map(\.url))
        } catch {
            for r in running { await r.stop() }
            throw error
        }
        for r in running { await r.stop() }
    }

    func initialize(_ url: URL, elicitation: Bool = false) async throws -> String {
        let caps = elicitation ? #"{"elicitation":{}}"# : "{}"
        let r = try await httpSend(
            url, body: #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":"# + caps
                + #","clientInfo":{"name":"replica-test","version":"1"}}}"#)
        XCTAssertEqual(r.status, 200)
        return r.headers["mcp-session-id"] ?? ""
    }

    func rpc(_ url: URL, _ id: String, _ body: String) async throws -> HTTPReply {
        try await httpSend(url, body: body, headers: ["Mcp-Session-Id": id, "MCP-Protocol-Version": "2025-11-25"])
    }

    func ping(_ url: URL, _ id: String) async throws -> Int { try await rpc(url, id, #"{"jsonrpc":"2.0","id":9,"method":"ping"}"#).status }

    func testSessionOpenedOnAIsServedOnB() async throws {
        try await withReplicas { store, urls in
            let id = try await initialize(urls[0])
            XCTAssertEqual(id.utf8.count, SessionIDSealer.idLength, "sealed ids have one fixed length")
            XCTAssertTrue(id.unicodeScalars.allSatisfy { (0x21...0x7E).contains($0.value) }, "visible ASCII only")
            let claims = try XCTUnwrap(sealer.open(id))
            XCTAssertEqual(claims.protocolVersion, "2025-11-25")
            XCTAssertEqual(claims.clientName, "replica-test")
            XCTAssertTrue(claims.isOwned(by: Principal(id: "alice", tenant: "default").bindingKey))
            XCTAssertEqual(store.peek("sess:\(claims.sidHex)"), "-", "initialize writes the liveness key")

            let note = try await rpc(urls[1], id, #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            XCTAssertEqual(note.status, 202)
            let list = try await rpc(urls[1], id, #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
            XCTAssertEqual(list.status, 200)
            XCTAssertEqual(list.json?["result"]?["tools"]?.arrayValue?.count, 8)
            // A search paged on A continues on B: the cursor is sealed, not held by A.
            let first = try await rpc(
                urls[0], id, #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"hr__search_employees","arguments":{"page_size":10}}}"#)
            let cursor = try XCTUnwrap(first.json?["result"]?["structuredContent"]?["next_cursor"]?.stringValue)
            let firstIDs = first.json?["result"]?["structuredContent"]?["items"]?.arrayValue?.compactMap { $0["employee_id"]?.stringValue } ?? []
            let second = try await rpc(
                urls[1], id,
                #"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"hr__search_employees","arguments":{"page_size":10,"cursor":""# + cursor
                    + #""}}}"#)
            XCTAssertEqual(second.status, 200)
            XCTAssertNil(second.json?["result"]?["isError"], "\(second.json ?? .null)")
            let secondIDs = second.json?["result"]?["structuredContent"]?["items"]?.arrayValue?.compactMap { $0["employee_id"]?.stringValue } ?? []
            XCTAssertEqual(secondIDs.count, 10)
            XCTAssertTrue(Set(firstIDs).isDisjoint(with: secondIDs), "B continued where A stopped")
        }
    }

    func testDeleteOnBEndsTheSessionOnA() async throws {
        try await withReplicas { store, urls in
            let id = try await initialize(urls[0])
            let sid = try XCTUnwrap(sealer.open(id)).sidHex
            let pingA = try await ping(urls[0], id)
            let pingB = try await ping(urls[1], id)
            XCTAssertEqual([pingA, pingB], [200, 200])
            let del = try await httpSend(urls[1], method: "DELETE", headers: ["Mcp-Session-Id": id])
            XCTAssertEqual(del.status, 200)
            XCTAssertNil(store.peek("sess:\(sid)"))
            XCTAssertTrue(store.published.contains { $0.channel == "sessions" && $0.message == "end \(sid)" })
            let afterA = try await ping(urls[0], id)
            let afterB = try await ping(urls[1], id)
            XCTAssertEqual([afterA, afterB], [404, 404], "a session deleted on one replica is gone on all")
        }
    }

    func testASessionWhoseKeyIsGoneIsNotMaterialized() async throws {
        try await withReplicas { store, urls in
            let id = try await initialize(urls[0])
            let sid = try XCTUnwrap(sealer.open(id)).sidHex
            // The key expires when the session is idle on every replica for the whole timeout.
            _ = try await store.delete("sess:\(sid)")
            let onB = try await ping(urls[1], id)
            XCTAssertEqual(onB, 404)
        }
    }

    func testSetLevelOnAReachesBsCopyAndNewCopies() async throws {
        try await withReplicas([Self.a, Self.b, Self.c]) { store, urls in
            let id = try await initialize(urls[0])
            let call = #"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"hr__search_employees","arguments":{"page_size":2}}}"#
            let before = try await rpc(urls[1], id, call)
            XCTAssertEqual(before.headers["content-type"], "application/json", "no level yet: a plain JSON answer")
            let set = try await rpc(urls[0], id, #"{"jsonrpc":"2.0","id":6,"method":"logging/setLevel","params":{"level":"debug"}}"#)
            XCTAssertEqual(set.status, 200)
            let sid = try XCTUnwrap(sealer.open(id)).sidHex
            XCTAssertEqual(store.peek("sess:\(sid)"), "debug")
            let onB = try await rpc(urls[1], id, call)
            XCTAssertEqual(onB.headers["content-type"], "text/event-stream", "B's copy took the level from the message")
            let onC = try await rpc(urls[2], id, call)
            XCTAssertEqual(onC.headers["content-type"], "text/event-stream", "a new copy reads the level from the store")
        }
    }

    func testConfirmationAnsweredOnBReachesTheCallWaitingOnA() async throws {
        try await withReplicas { store, urls in
            let id = try await initialize(urls[0], elicitation: true)
            let (stream, session) = SSEStream.post(
                urls[0], body: #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"hr__list_departments","arguments":{}}}"#,
                headers: ["Mcp-Session-Id": id, "MCP-Protocol-Version": "2025-11-25"])
            defer { session.invalidateAndCancel() }
            var messages = stream.messages().makeAsyncIterator()
            guard let ask = await messages.next() else { return XCTFail("the stream ended before the confirmation request") }
            XCTAssertEqual(ask["method"], "elicitation/create")
            let askID = try XCTUnwrap(ask["id"]?.stringValue)
            XCTAssertTrue(askID.hasPrefix("broker-\(Self.a)-"), "the request id names the replica that waits: \(askID)")

            let answer = try await rpc(
                urls[1], id, #"{"jsonrpc":"2.0","id":""# + askID + #"","result":{"action":"accept","content":{"approve":true}}}"#)
            XCTAssertEqual(answer.status, 202)
            XCTAssertTrue(store.published.contains { $0.channel == "reply:\(Self.a)" })
            guard let result = await messages.next() else { return XCTFail("the call did not answer") }
            XCTAssertEqual(result["id"], 7)
            XCTAssertNil(result["result"]?["isError"], "\(result)")
            XCTAssertNotNil(result["result"]?["structuredContent"]?["departments"]?.arrayValue, "the confirmed call ran on A: \(result)")
        }
    }

    func testTamperedAndForeignIDsAre404() async throws {
        try await withReplicas([Self.a, Self.b, Self.c], principals: [Self.c: "mallory"]) { _, urls in
            let id = try await initialize(urls[0])
            var bytes = Array(id.utf8)
            bytes[40] = bytes[40] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let tampered = String(decoding: bytes, as: UTF8.self)
            let onBTampered = try await ping(urls[1], tampered)
            XCTAssertEqual(onBTampered, 404)
            let onCForeign = try await ping(urls[2], id)
            XCTAssertEqual(onCForeign, 404, "another principal's sealed id is unknown")
            let random = try await ping(urls[1], String(repeating: "0", count: 32))
            XCTAssertEqual(random, 404)
            let onB = try await ping(urls[1], id)
            XCTAssertEqual(onB, 200, "the genuine id still works")
        }
    }

    func testStoreDownStillServesSealedIDs() async throws {
        try await withReplicas { store, urls in
            let id = try await initialize(urls[0])
            store.isDown = true
            let list = try await rpc(urls[1], id, #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
            XCTAssertEqual(list.status, 200, "degraded: the sealed id alone is trusted while the store is down")
            // A session opened while the store is down works too.
            let during = try await initialize(urls[1])
            let pingDuring = try await ping(urls[1], during)
            XCTAssertEqual(pingDuring, 200)
            store.isDown = false
        }
    }

    /// The degraded path counts its fallbacks, and the pub/sub handlers act on the local table.
    func testSharedSessionsUnitBehaviour() async throws {
        let store = MemorySharedStore()
        let table = SessionTable(maxSessions: 10, idleTimeout: .seconds(600))
        let shared = SharedSessions(
            shared: SharedState(store: store, replicas: .fixed(2), replicaID: Self.b), store: store, sessions: table, idleTimeout: .seconds(600),
            maxBodyBytes: 4096, logger: Logger(label: "t"))
        shared.subscribe()
        let alice = Principal(id: "alice", tenant: "default")
        let issued = try XCTUnwrap(sealer.issue(owner: alice.bindingKey, protocolVersion: "2025-11-25", clientName: "x", supportsElicitation: true))
        store.isDown = true
        let degraded = await shared.resolve(issued.id, principal: alice, sealer: sealer)
        XCTAssertNotNil(degraded)
        XCTAssertEqual(shared.fallbacks, 1)
        XCTAssertTrue(degraded?.supportsElicitation ?? false)
        XCTAssertEqual(degraded?.protocolVersion, "2025-11-25")
        store.isDown = false
        try await store.publish("sessions", "level \(issued.claims.sidHex) warning")
        XCTAssertEqual(degraded?.logLevel, .warning)
        let oversized = #"{"sid":"\#(issued.claims.sidHex)","response":{"jsonrpc":"2.0","id":"broker-\#(Self.b)-1","result":{"pad":""# + String(repeating: "x", count: 5000) + #""}}}"#
        try await store.publish("reply:\(Self.b)", oversized)  // dropped: larger than the cap, nothing waits anyway
        try await store.publish("sessions", "end \(issued.claims.sidHex)")
        XCTAssertNil(table.get(issued.id), "an end message drops the local copy")
        XCTAssertEqual(table.count, 0)
    }
}
