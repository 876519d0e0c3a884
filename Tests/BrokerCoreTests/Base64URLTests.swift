// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import XCTest

/// The one base64url codec of the broker (JWTs, API keys, sealed confirmation states).
final class Base64URLTests: XCTestCase {
    func testRoundTripAndStrictness() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let text = Base64URL.encode(bytes)
            XCTAssertFalse(text.contains("=") || text.contains("+") || text.contains("/"), text)
            XCTAssertEqual(Base64URL.decode(text), bytes)
            XCTAssertEqual(Base64URL.decodeCanonical(text), bytes)
        }
        for bad in ["a", "YQ==", "Y Q", "Y+Q", "Y/Q", "é"] { XCTAssertNil(Base64URL.decode(bad), bad) }
    }

    func testCanonicalRefusesSecondSpellings() {
        // "YQ" is "a"; "YR" decodes to the same byte with a stray low bit: a second spelling of one token.
        XCTAssertEqual(Base64URL.decode("YR"), Array("a".utf8))
        XCTAssertNil(Base64URL.decodeCanonical("YR"))
        XCTAssertEqual(Base64URL.decodeCanonical("YQ"), Array("a".utf8))
        XCTAssertNil(Base64URL.decodeCanonical("YWJ"), "'ab' is YWI; YWJ sets a left-over bit")
        XCTAssertEqual(Base64URL.decodeCanonical("YWI"), Array("ab".utf8))
    }
}
