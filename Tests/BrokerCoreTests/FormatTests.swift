// SPDX-License-Identifier: Apache-2.0

@testable import BrokerCore
import XCTest

/// The error text's number formatting takes any Double: a backend's `Retry-After` can be absurd.
final class FormatTests: XCTestCase {
    func testThreeDecimalsForAnyDouble() {
        XCTAssertEqual(MCPServer.format3(1.23456), "1.235")
        XCTAssertEqual(MCPServer.format3(0), "0.0")
        // Int64.max seconds from a hostile Retry-After: written as is instead of trapping on the scaled Int.
        XCTAssertEqual(MCPServer.format3(9.223372036854776e18), String(9.223372036854776e18))
        XCTAssertEqual(MCPServer.format3(.infinity), "inf")
        XCTAssertEqual(MCPServer.format3(.nan), "nan")
    }
}
