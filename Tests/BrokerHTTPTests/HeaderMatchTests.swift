// SPDX-License-Identifier: Apache-2.0

import XCTest

@testable import BrokerHTTP

/// The byte-wise header matching that replaced `lowercased().contains(…)` must decide exactly as it did.
final class HeaderMatchTests: XCTestCase {
    func testAgreesWithLowercasedContains() {
        let values = [
            "application/json, text/event-stream", "Application/JSON", "TEXT/EVENT-STREAM;q=0.9", "*/*", "text/html", "", "application/jso",
            "x application/json", "text/event-streaM", "application/json; charset=utf-8",
        ]
        for value in values {
            XCTAssertEqual(HeaderMatch.contains(value, "application/json"), value.lowercased().contains("application/json"), value)
            XCTAssertEqual(HeaderMatch.contains(value, "text/event-stream"), value.lowercased().contains("text/event-stream"), value)
            XCTAssertEqual(HeaderMatch.contains(value, "*/*"), value.lowercased().contains("*/*"), value)
            XCTAssertEqual(HeaderMatch.hasPrefix(value, "application/json"), value.lowercased().hasPrefix("application/json"), value)
        }
        XCTAssertTrue(HeaderMatch.contains("anything", ""))
    }
}
