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

    func testSpecialPurposeIPv4RangesArePrivate() {
        for address in ["0.0.0.0", "0.1.2.3", "10.0.0.1", "100.64.0.1", "100.127.255.255", "127.0.0.1", "169.254.169.254", "172.16.0.1",
                        "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.88.99.1", "192.168.1.1", "198.18.0.1", "198.19.255.255",
                        "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255"] {
            XCTAssertTrue(AddressGuard.isPrivate(address), address)
        }
        for address in ["8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.1", "172.15.0.1", "172.32.0.1", "198.17.255.255", "198.20.0.1", "223.255.255.255"] {
            XCTAssertFalse(AddressGuard.isPrivate(address), address)
        }
    }

    func testIPv6RangesAndEveryFormThatEmbedsIPv4() {
        let refused = [
            "::", "::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:169.254.169.254", "::127.0.0.1", "::a9fe:a9fe",
            "64:ff9b::10.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "64:ff9b:1::1", "64:ff9b:1:abcd::8.8.8.8",
            "fec0::1", "feff::1", "fe80::1", "febf::1", "fc00::1", "fd12:3456::1", "ff02::1", "100::1", "2001:db8::1",
            "2002:7f00:1::1", "2002:c0a8:101::1", "2002:a9fe:a9fe::",
            // Teredo: server 8.8.8.8 but client 127.0.0.1 (inverted: 80ff:fffe); and a private server.
            "2001:0:808:808::80ff:fffe", "2001:0:a00:1::f7f7:f7f7",
            "fe80::1%eth0", "not-an-address",
        ]
        for address in refused { XCTAssertTrue(AddressGuard.isPrivate(address), address) }
        let allowed = [
            "2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1",
            "2001:0:808:808::f7f7:f7f7", "fe7f::1",
        ]
        for address in allowed { XCTAssertFalse(AddressGuard.isPrivate(address), address) }
    }

    func testNAT64AndSiteLocalLiteralsAreRefusedByResolve() async {
        let publicOnly = AddressGuard(allowPrivate: false)
        for host in ["64:ff9b::a9fe:a9fe", "fec0::1", "64:ff9b:1::1", "2002:a9fe:a9fe::1"] {
            do {
                _ = try await publicOnly.resolve(host: host, backend: "crm")
                XCTFail("\(host) is private")
            } catch {
                XCTAssertEqual(error.code, .forbidden, host)
            }
        }
    }
}
