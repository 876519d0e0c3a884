// SPDX-License-Identifier: Apache-2.0

@testable import BrokerBackendMockERP
@testable import BrokerBackendMockHR
import BrokerCore
import Foundation
import Logging
import MCPCore
import Synchronization
import XCTest

/// Mock HR and ERP cursors are sealed: issued by one replica, continued by another with the same key, and refused
/// for another principal, tenant, backend or search, after expiry, or altered.
final class SealedCursorTests: XCTestCase {
    final class Clock: Sendable {
        private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
        var read: @Sendable () -> Date { { [self] in current.withLock { $0 } } }
    }

    let material = KeyMaterial(current: Array("mock-cursor-test-key-0123456789abcdef".utf8))

    func context(_ tokens: SealedTokens, id: String = "u1", tenant: String = "acme") -> CallContext {
        var c = CallContext(principal: Principal(id: id, tenant: tenant), correlationID: "t", deadline: .now + .seconds(60), logger: Logger(label: "t"))
        c.tokens = tokens
        return c
    }

    func invalid(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            XCTFail("the cursor was accepted")
        } catch let e as BrokerError {
            XCTAssertEqual(e.code, .invalidArguments)
            return e.message
        } catch {
            XCTFail("\(error)")
        }
        return nil
    }

    func testHRCursorContinuesOnAnotherReplicaAndIsBound() async throws {
        let clock = Clock()
        let replicaA = try HRTest.make(), replicaB = try HRTest.make()
        let tokensA = SealedTokens(material: material, now: clock.read), tokensB = SealedTokens(material: material, now: clock.read)
        let search: [String: JSONValue] = ["department": "Sales", "page_size": 5]
        let first = try await replicaA.callTool("search_employees", arguments: search, context: context(tokensA)).structured ?? .null
        let cursor = try XCTUnwrap(first["next_cursor"]?.stringValue)
        var next = search
        next["cursor"] = .string(cursor)
        let second = try await replicaB.callTool("search_employees", arguments: next, context: context(tokensB)).structured ?? .null
        let ids = { (v: JSONValue) in Set(v["items"]?.arrayValue?.compactMap { $0["employee_id"]?.stringValue } ?? []) }
        XCTAssertEqual(ids(second).count, 5)
        XCTAssertTrue(ids(first).isDisjoint(with: ids(second)), "replica B continued where A stopped")

        let expected = "The cursor is not valid for this search; start again without a cursor."
        let b = replicaB
        let foreign: [(String, CallContext, [String: JSONValue])] = [
            ("another principal", context(tokensB, id: "u2"), next),
            ("another tenant", context(tokensB, tenant: "globex"), next),
            ("another key", context(SealedTokens(material: KeyMaterial(current: Array("another-deployment-key-0123456789abcd".utf8)), now: clock.read)), next),
            ("another search", context(tokensB), next.merging(["department": "Legal"]) { $1 }),
        ]
        for (why, ctx, args) in foreign {
            let message = await invalid { _ = try await b.callTool("search_employees", arguments: args, context: ctx) }
            XCTAssertEqual(message, expected, why)
        }
        var altered = next
        altered["cursor"] = .string(String(cursor.dropLast()) + (cursor.last == "A" ? "B" : "A"))
        _ = await invalid { _ = try await b.callTool("search_employees", arguments: altered, context: self.context(tokensB)) }
        let otherBackend = try HRTest.make(name: "hr2")
        _ = await invalid { _ = try await otherBackend.callTool("search_employees", arguments: next, context: self.context(tokensB)) }
        clock.advance(3601)
        _ = await invalid { _ = try await b.callTool("search_employees", arguments: next, context: self.context(tokensB)) }
    }

    func testERPCursorContinuesOnAnotherReplicaAndIsBound() async throws {
        let clock = Clock()
        let replicaA = try ERPTest.make(ERPTest.yaml()), replicaB = try ERPTest.make(ERPTest.yaml())
        let tokensA = SealedTokens(material: material, now: clock.read), tokensB = SealedTokens(material: material, now: clock.read)
        let search: [String: JSONValue] = ["page_size": 10, "status": "closed"]
        let first = try await replicaA.callTool("search_purchase_orders", arguments: search, context: context(tokensA)).structured ?? .null
        let cursor = try XCTUnwrap(first["next_cursor"]?.stringValue)
        var next = search
        next["cursor"] = .string(cursor)
        let second = try await replicaB.callTool("search_purchase_orders", arguments: next, context: context(tokensB)).structured ?? .null
        let ids = { (v: JSONValue) in Set(v["items"]?.arrayValue?.compactMap { $0["po_number"]?.stringValue } ?? []) }
        XCTAssertEqual(ids(second).count, 10)
        XCTAssertTrue(ids(first).isDisjoint(with: ids(second)))
        let b = replicaB
        for ctx in [context(tokensB, id: "u2"), context(tokensB, tenant: "globex")] {
            _ = await invalid { _ = try await b.callTool("search_purchase_orders", arguments: next, context: ctx) }
        }
        clock.advance(3601)
        _ = await invalid { _ = try await b.callTool("search_purchase_orders", arguments: next, context: self.context(tokensB)) }
    }
}
