// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import XCTest

/// `jwks_url`: https anywhere, plain http only to a host that is exactly loopback.
final class KeySetURLTests: XCTestCase {
    private func load(_ url: String) throws -> BrokerConfiguration {
        try BrokerConfiguration.parse(yaml: """
            server:
              http: { auth: { resource: "https://b.example/mcp", jwt: { issuer: "https://idp.example", jwks_url: '\(url)' } } }
            """)
    }

    func testLoopbackLookalikesAreRefused() {
        let bypasses = [
            "http://localhost.evil.example/jwks.json", "http://127.0.0.1.nip.io/jwks.json", "http://localhost@evil.example/jwks.json",
            "http://127.0.0.1@evil.example/jwks.json", "http://localhost:80@evil.example/", "http://user:pw@localhost/jwks.json",
            "http://evil.example/#@localhost", "http://evil.example?@127.0.0.1", "http://localhost\\@evil.example/",
            "http://127.1/jwks.json", "http://0177.0.0.1/jwks.json", "http://2130706433/jwks.json", "http://[::ffff:127.0.0.1]/",
            "http://128.0.0.1/", "http://localhostx/", "ftp://localhost/jwks.json", "https://user@idp.example/jwks.json", "localhost/jwks.json",
        ]
        for url in bypasses {
            XCTAssertFalse(KeySetURL.isAllowed(url), url)
            XCTAssertThrowsError(try load(url), url) { error in
                XCTAssertTrue("\(error)".contains("jwks_url: must be https"), "\(error)")
            }
        }
    }

    func testHTTPSAnywhereAndHTTPOnExactLoopback() throws {
        for url in ["https://idp.example/.well-known/jwks.json", "HTTP://LOCALHOST:8080/jwks.json", "http://localhost/jwks.json",
                    "http://127.0.0.1:9000/k", "http://127.255.0.9/k", "http://[::1]:8080/jwks.json", "https://idp.example/keys@v2"] {
            XCTAssertTrue(KeySetURL.isAllowed(url), url)
        }
        XCTAssertEqual(try load("http://127.0.0.1:9000/k").server.http.auth?.jwt?.jwksURL, "http://127.0.0.1:9000/k")
    }
}
