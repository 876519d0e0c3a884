// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
import Synchronization
import XCTest

@testable import BrokerBackendPostgres

/// Warehouse cursors are sealed: a page issued by one broker continues on another with the same key (two backend
/// instances, two pools, the real warehouse), and a cursor is refused for another principal, tenant, tool or
/// backend, after ten minutes, or altered.
final class WarehouseCursorReplicaTests: XCTestCase {
    final class Clock: Sendable {
        private let current = Mutex(Date())
        func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
        var read: @Sendable () -> Date { { [self] in current.withLock { $0 } } }
    }

    let harness = PGBackendHarness()
    let material = KeyMaterial(current: Array("warehouse-cursor-replica-key-0123456789".utf8))

    func context(_ tokens: SealedTokens, tenant: String = "acme", id: String = "ana") -> CallContext {
        var c = harness.context(tenant, id: id)
        c.tokens = tokens
        return c
    }

    func testCursorFromOneReplicaContinuesOnAnotherAndIsBound() async throws {
        let clock = Clock()
        let replicaA = try harness.backend(), replicaB = try harness.backend()
        let tokensA = SealedTokens(material: material, now: clock.read), tokensB = SealedTokens(material: material, now: clock.read)
        let first = try await harness.call(replicaA, "run_sql", ["sql": "SELECT order_id FROM analytics.orders ORDER BY order_id"], context(tokensA))
        let cursor = try XCTUnwrap(first["next_cursor"]?.stringValue)
        let schemaMax = replicaA.tools.first { $0.name == "run_sql" }?.inputSchema["properties"]?["cursor"]?["maxLength"]?.intValue ?? 0
        XCTAssertLessThanOrEqual(Int64(cursor.utf8.count), schemaMax, "the input schema admits the cursors the backend issues")
        let second = try await harness.call(replicaB, "run_sql", ["cursor": .string(cursor)], context(tokensB))
        let a = first["rows"]?.arrayValue?.compactMap { $0.arrayValue?.first?.intValue } ?? []
        let b = second["rows"]?.arrayValue?.compactMap { $0.arrayValue?.first?.intValue } ?? []
        XCTAssertEqual(b.count, 50)
        XCTAssertGreaterThan(b.first ?? 0, a.last ?? 0, "replica B continued where A stopped")

        let refusals: [(String, CallContext)] = [
            ("another principal", context(tokensB, id: "bob")),
            ("another tenant", context(tokensB, tenant: "globex")),
            ("another key", context(SealedTokens(material: KeyMaterial(current: Array("some-other-deployment-key-0123456789ab".utf8)), now: clock.read))),
        ]
        for (why, ctx) in refusals {
            let e = await harness.brokerError(replicaB, "run_sql", ["cursor": .string(cursor)], ctx)
            XCTAssertEqual(e?.message, "The cursor is unknown or expired; run the query again without a cursor.", why)
        }
        let altered = String(cursor.dropLast()) + (cursor.last == "A" ? "B" : "A")
        let tampered = await harness.brokerError(replicaB, "run_sql", ["cursor": .string(altered)], context(tokensB))
        XCTAssertEqual(tampered?.code, .invalidArguments)
        let otherBackend = try Postgres.kind.make(
            BackendSetup(name: "wh2", settings: try ConfigNode.parse(yaml: PostgresBackendTests.yaml(), file: "pg.yaml"), logger: Logger(label: "t")))
        let foreignBackend = await harness.brokerError(otherBackend, "run_sql", ["cursor": .string(cursor)], context(tokensB))
        XCTAssertEqual(foreignBackend?.code, .invalidArguments, "a cursor runs only on the warehouse whose gate checked its SQL")
        clock.advance(601)
        let expired = await harness.brokerError(replicaB, "run_sql", ["cursor": .string(cursor)], context(tokensB))
        XCTAssertEqual(expired?.code, .invalidArguments)
    }

    func testAQueryTooLongToCarryGetsNoCursorAndIsToldToNarrow() throws {
        let cursors = ResultCursors(backend: "wh", maxSQLBytes: 64)
        let ctx = context(SealedTokens(material: material))
        XCTAssertNil(cursors.issue(tool: "run_sql", context: ctx, sql: String(repeating: "x", count: 65), parameters: [], offset: 50))
        let token = try XCTUnwrap(cursors.issue(tool: "run_sql", context: ctx, sql: "SELECT 1", parameters: ["a", nil], offset: 50))
        let page = try XCTUnwrap(cursors.redeem(token, tool: "run_sql", context: ctx))
        XCTAssertEqual(page.sql, "SELECT 1")
        XCTAssertEqual(page.parameters, ["a", nil])
        XCTAssertEqual(page.offset, 50)
        XCTAssertNil(cursors.redeem(token, tool: "orders_by_customer", context: ctx), "another tool")
    }
}
