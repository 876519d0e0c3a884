// SPDX-License-Identifier: Apache-2.0

@testable import BrokerAuth
import BrokerCore
import XCTest

/// Reading `Authorization: Bearer <credential>` byte-wise.
final class BearerHeaderTests: XCTestCase {
    func credential(_ header: String?) -> String? {
        guard case .success(let c)? = BrokerAuthenticator.bearerCredential(header) else { return nil }
        return c
    }

    func testAcceptsBearerInAnyCaseWithOptionalWhitespace() {
        XCTAssertEqual(credential("Bearer abc.def.ghi"), "abc.def.ghi")
        XCTAssertEqual(credential("  bEaReR   mcpb_x-y_z \t"), "mcpb_x-y_z")
    }

    func testMissingAndMalformedHeaders() {
        XCTAssertNil(BrokerAuthenticator.bearerCredential(nil))
        XCTAssertNil(BrokerAuthenticator.bearerCredential("   "))
        for bad in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "Bearerabc", "Token abc", "Bearer a b", "Bearer a\u{7F}b"] {
            guard case .failure(let c)? = BrokerAuthenticator.bearerCredential(bad) else { return XCTFail("accepted \(bad)") }
            XCTAssertEqual(c.status, 400, bad)
            XCTAssertEqual(c.error, "invalid_request", bad)
        }
    }
}
