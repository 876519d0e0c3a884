// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import XCTest

/// W3C Trace Context parsing: version 00 is strict, later versions are read forwards-compatibly, and hostile input
/// is refused without being read past what the format allows.
final class TraceContextTests: XCTestCase {
    let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    func testValidVersion00() throws {
        let p = try XCTUnwrap(TraceParent.parse(valid))
        XCTAssertEqual(p.traceID.hex, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(p.spanID.hex, "00f067aa0ba902b7")
        XCTAssertEqual(p.flags, 1)
        XCTAssertTrue(p.isSampled)
        XCTAssertEqual(p.header, valid, "formatting gives back the same header")
        let unsampled = try XCTUnwrap(TraceParent.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"))
        XCTAssertFalse(unsampled.isSampled)
    }

    func testInvalidShapesAreRefused() {
        let cases: [String: String] = [
            "empty": "",
            "short": String(valid.dropLast()),
            "extra field with version 00": valid + "-abcd",
            "trailing garbage with version 00": valid + "x",
            "uppercase trace id": "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "uppercase span id": "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
            "uppercase version": "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "non-hex": "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "all-zero trace id": "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "all-zero span id": "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "version ff": "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "wrong separators": "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            "leading space": " " + valid.dropLast(),
            "multibyte characters": "00-4bf92f3577b34da6a3ce929d0e0e47é-00f067aa0ba902b7-01",
            "two headers joined": valid + ", " + valid,
            "sign in hex": "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ]
        for (name, value) in cases { XCTAssertNil(TraceParent.parse(value), name) }
    }

    func testFutureVersionsParseTheKnownFields() throws {
        let future = try XCTUnwrap(TraceParent.parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what-comes-next"))
        XCTAssertEqual(future.traceID.hex, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(future.flags, 1, "only the sampled bit of an unknown version is kept")
        XCTAssertEqual(future.header, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "we always send version 00")
        XCTAssertNotNil(TraceParent.parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        XCTAssertNil(TraceParent.parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"), "a later field must follow a '-'")
    }

    func testHugeInputIsRefusedOrReadOnlyAsFarAsNeeded() throws {
        let huge = String(repeating: "a", count: 4 << 20)
        XCTAssertNil(TraceParent.parse(huge))
        XCTAssertNil(TraceParent.parse(valid + huge), "version 00 is exactly 55 characters")
        let future = try XCTUnwrap(TraceParent.parse("01" + valid.dropFirst(2) + "-" + huge))
        XCTAssertEqual(future.spanID.hex, "00f067aa0ba902b7")
        XCTAssertNil(TraceState.normalize("a=b," + huge), "oversized tracestate is dropped unread")
        XCTAssertNil(TraceState.normalize(String(repeating: ",", count: 1 << 20)))
    }

    func testTraceStateValidation() {
        XCTAssertEqual(TraceState.normalize("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
        XCTAssertEqual(TraceState.normalize(" rojo=1 ,, \tcongo=2 "), "rojo=1,congo=2", "OWS and empty members are dropped")
        XCTAssertEqual(TraceState.normalize("tenant1@vendor=x"), "tenant1@vendor=x", "multi-tenant keys")
        XCTAssertEqual(TraceState.normalize("a=b c"), "a=b c", "inner spaces are allowed in values")
        XCTAssertNil(TraceState.normalize(""))
        XCTAssertNil(TraceState.normalize("Rojo=1"), "keys are lowercase")
        XCTAssertNil(TraceState.normalize("rojo=1,rojo=2"), "duplicate keys invalidate the whole list")
        XCTAssertNil(TraceState.normalize("rojo"), "a member needs '='")
        XCTAssertNil(TraceState.normalize("rojo="), "values are not empty")
        XCTAssertNil(TraceState.normalize("rojo=a=b"), "'=' is not allowed in values")
        XCTAssertNil(TraceState.normalize("rojo=caf\u{e9}"), "values are printable ASCII")
        XCTAssertNil(TraceState.normalize("1abc=x"), "a simple key starts with a letter")
        XCTAssertNil(TraceState.normalize("t@Vendor=x"), "system ids are lowercase")
        XCTAssertNil(TraceState.normalize("t@vendorvendorvendor=x"), "system ids are at most 14 characters")
    }

    func testTraceStateIsCappedPerW3C() throws {
        let thirtyTwo = (1...32).map { "k\($0)=v" }.joined(separator: ",")
        XCTAssertEqual(TraceState.normalize(thirtyTwo), thirtyTwo)
        XCTAssertNil(TraceState.normalize(thirtyTwo + ",k33=v"), "more than 32 members invalidates the list")
        // 10 members of 60 characters: 609 characters, so members are dropped from the end until it fits in 512.
        let long = (0..<10).map { "k\($0)=" + String(repeating: "x", count: 57) }
        let capped = try XCTUnwrap(TraceState.normalize(long.joined(separator: ",")))
        XCTAssertLessThanOrEqual(capped.utf8.count, TraceState.maxLength)
        XCTAssertEqual(capped, long.prefix(8).joined(separator: ","))
        // A member over 128 characters goes first, even when it is not last.
        let big = "big=" + String(repeating: "y", count: 200)
        let mixed = [long[0], big] + long[1...5]
        XCTAssertEqual(TraceState.normalize(mixed.joined(separator: ",")), ([long[0]] + long[1...5]).joined(separator: ","))
    }
}
