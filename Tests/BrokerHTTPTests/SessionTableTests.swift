// SPDX-License-Identifier: Apache-2.0

import BrokerCore
@testable import BrokerHTTP
import XCTest

/// Session eviction is fair between principals: one principal opening sessions in a loop ends only its own.
final class SessionTableTests: XCTestCase {
    func testAPrincipalOverItsCapLosesItsOwnOldestSession() throws {
        let table = SessionTable(maxSessions: 1000, maxPerOwner: 4, idleTimeout: .seconds(60))
        let victim = table.create(owner: "globex/alice")
        let victimID = try XCTUnwrap(victim.id)
        var flooded: [String] = []
        for _ in 0..<500 { flooded.append(try XCTUnwrap(table.create(owner: "acme/mallory").id)) }
        XCTAssertEqual(table.count(owner: "acme/mallory"), 4, "the flood keeps only its newest sessions")
        XCTAssertNotNil(table.get(victimID), "another principal's session survives")
        XCTAssertNil(table.get(flooded[0]))
        XCTAssertNotNil(table.get(flooded[499]))
    }

    func testAFullTableEvictsFromThePrincipalHoldingTheMost() throws {
        let table = SessionTable(maxSessions: 6, maxPerOwner: 6, idleTimeout: .seconds(60))
        let a = try XCTUnwrap(table.create(owner: "a").id)
        let b = try XCTUnwrap(table.create(owner: "b").id)
        for _ in 0..<10 { _ = table.create(owner: "flood") }
        XCTAssertNotNil(table.get(a))
        XCTAssertNotNil(table.get(b))
        XCTAssertEqual(table.count(owner: "flood"), 4, "the table is full: the biggest holder pays for each new session")
        XCTAssertTrue(table.remove(a))
        XCTAssertEqual(table.count(owner: "a"), 0)
    }
}
