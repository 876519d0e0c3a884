// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Crypto
import Foundation
import JWTKit
import MCPCore
import XCTest

@testable import BrokerAuth

/// Tokens crafted to get past the verifier: algorithm tricks, forged or tampered signatures, oversized input.
final class JWTSecurityTests: XCTestCase {
    private var fixture: AuthFixture!
    private var idp: TestIssuer!
    private var auth: BrokerAuthenticator!

    override func setUp() async throws {
        fixture = try AuthFixture()
        idp = try await TestIssuer.make()
        try fixture.writeJWKS(idp.jwks())
        auth = try await BrokerAuthenticator(settings: fixture.settings(), logger: AuthFixture.logger)
    }

    private func check(_ token: String, with authenticator: BrokerAuthenticator? = nil) async -> Result<Principal, AuthChallenge> {
        await (authenticator ?? auth).authenticate(authorization: "Bearer \(token)")
    }

    private func unsigned(header: JSONValue) -> String {
        TestIssuer.encode(header) + "." + TestIssuer.encode(.object(TestIssuer.claims()))
    }

    func testAlgNoneRefused() async {
        let token = unsigned(header: ["alg": "none", "typ": "JWT", "kid": "rsa-1"]) + "."
        XCTAssertRefused(await check(token), "algorithm not allowed")
    }

    func testHMACSignedWithRSAPublicKeyRefused() async throws {
        let pem = try XCTUnwrap(idp.rsaPublicPEM["rsa-1"])
        let input = unsigned(header: ["alg": "HS256", "typ": "JWT", "kid": "rsa-1"])
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array(pem.utf8)))
        let token = input + "." + Base64URL.encode(Array(mac))
        XCTAssertRefused(await check(token), "algorithm not allowed")

        // Even when HS256 is (wrongly) put in the settings by code that bypassed config validation.
        let lax = try await BrokerAuthenticator(
            settings: fixture.settings { $0.algorithms = ["RS256", "HS256"] }, logger: AuthFixture.logger)
        XCTAssertRefused(await check(token, with: lax), "algorithm not allowed")
    }

    func testAlgorithmNotInConfiguredAllowlistRefused() async throws {
        let rsaOnly = try await BrokerAuthenticator(settings: fixture.settings { $0.algorithms = ["RS256"] }, logger: AuthFixture.logger)
        XCTAssertRefused(await check(try await idp.token(kid: "ec-1"), with: rsaOnly), "algorithm not allowed")
        XCTAssertRefused(await check(try await idp.token(kid: "ed-1"), with: rsaOnly), "algorithm not allowed")
        XCTAssertAccepted(await check(try await idp.token(kid: "rsa-1"), with: rsaOnly))
    }

    func testHeaderAlgMustMatchTheKeysAlgorithm() async throws {
        // A real ES256 signature, but the header claims RS256 and names the EC key.
        let token = try await idp.token(kid: "ec-1", header: ["alg": "RS256"])
        XCTAssertRefused(await check(token), "algorithm does not match the signing key")
    }

    func testSignatureByAnotherKeyUnderAKnownKidRefused() async throws {
        var other = TestIssuer()
        try await other.addEC(kid: "ec-1")
        XCTAssertRefused(await check(try await other.token(kid: "ec-1")), "bad signature")
    }

    func testTamperedPayloadRefused() async throws {
        let token = try await idp.token(kid: "rsa-1")
        let parts = token.split(separator: ".").map(String.init)
        let forged = TestIssuer.encode(.object(TestIssuer.claims(["tenant": "other-tenant"])))
        XCTAssertRefused(await check(parts[0] + "." + forged + "." + parts[2]), "bad signature")
    }

    func testUnknownKidRefused() async throws {
        var other = TestIssuer()
        try await other.addEdDSA(kid: "ed-unknown")
        XCTAssertRefused(await check(try await other.token(kid: "ed-unknown")), "unknown signing key")
    }

    func testMissingKidAndCritRefused() async throws {
        XCTAssertRefused(await check(try await idp.token(kid: "rsa-1", removingHeader: ["kid"])), "token header names no key id")
        let crit = try await idp.token(kid: "rsa-1", header: ["crit": ["exp"], "exp": 1])
        XCTAssertRefused(await check(crit), "token has critical header parameters this server does not support")
    }

    func testOversizedTokenRefusedBeforeParsing() async throws {
        let big = try await idp.token(kid: "rsa-1", claims: TestIssuer.claims(["pad": .string(String(repeating: "x", count: 9000))]))
        XCTAssertRefused(await check(big), "token too large")
        // Not even shaped like a JWS: size is checked first.
        XCTAssertRefused(await check(String(repeating: "a", count: 8193)), "token too large")
    }

    func testMalformedTokensRefused() async {
        XCTAssertRefused(await check("abc.def"), "token is not a compact JWS")
        XCTAssertRefused(await check("a.b.c.d"), "token is not a compact JWS")
        XCTAssertRefused(await check("!!!.e30.sig"), "token header is malformed")
        XCTAssertRefused(await check(TestIssuer.encode(["typ": "JWT"]) + ".e30.c2ln"), "token header names no algorithm")
    }
}
