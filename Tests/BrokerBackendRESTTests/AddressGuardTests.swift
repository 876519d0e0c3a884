// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import XCTest

@testable import BrokerBackendREST

/// The SSRF guard's resolution: literals without a lookup, names through getaddrinfo, the check on every use.
final class AddressGuardTests: XCTestCase {
    func testLiteralsAreCanonicalAndOddSpellingsGoToTheResolver() {
        XCTAssertEqual(AddressGuard.canonicalLiteral("127.0.0.1"), "127.0.0.1")
        XCTAssertEqual(AddressGuard.canonicalLiteral("0:0:0:0:0:0:0:1"), "::1")
        XCTAssertEqual(AddressGuard.canonicalLiteral("::FFFF:10.0.0.1"), "::ffff:10.0.0.1")
        XCTAssertNil(AddressGuard.canonicalLiteral("127.1"), "inet_aton-only spellings keep the full lookup")
        XCTAssertNil(AddressGuard.canonicalLiteral("localhost"))
        XCTAssertNil(AddressGuard.canonicalLiteral("[::1]"))
    }

    func testPrivateAddressesAreRefusedOnEveryUseLiteralOrCached() async {
        let publicOnly = AddressGuard(allowPrivate: false)
        for host in ["10.1.2.3", "::ffff:192.168.0.1", "localhost", "localhost", "127.1"] {
            do {
                _ = try await publicOnly.resolve(host: host, backend: "crm")
                XCTFail("\(host) is private")
            } catch {
                XCTAssertEqual(error.code, .forbidden, host)
            }
        }
        let internalGuard = AddressGuard(allowPrivate: true)
        let first = try? await internalGuard.resolve(host: "localhost", backend: "crm")
        let second = try? await internalGuard.resolve(host: "localhost", backend: "crm")
        XCTAssertNotNil(first)
        XCTAssertEqual(first, second, "the remembered answer")
        let literal = try? await internalGuard.resolve(host: "127.0.0.1", backend: "crm")
        XCTAssertEqual(literal, "127.0.0.1")
    }

    func testUnresolvableNameIsUnavailable() async {
        do {
            _ = try await AddressGuard(allowPrivate: true).resolve(host: "no-such-host.invalid", backend: "crm")
            XCTFail("must not resolve")
        } catch {
            XCTAssertEqual(error.code, .backendUnavailable)
        }
    }
}
