// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import XCTest

@testable import BrokerAuth

/// Valid tokens of each algorithm, and the registered-claim and principal-mapping checks.
final class JWTClaimsTests: XCTestCase {
    private var fixture: AuthFixture!
    private var idp: TestIssuer!
    private var auth: BrokerAuthenticator!

    override func setUp() async throws {
        fixture = try AuthFixture()
        idp = try await TestIssuer.make()
        try fixture.writeJWKS(idp.jwks())
        auth = try await BrokerAuthenticator(settings: fixture.settings(), logger: AuthFixture.logger)
    }

    private func check(_ token: String) async -> Result<Principal, AuthChallenge> {
        await auth.authenticate(authorization: "Bearer \(token)")
    }

    private func claims(_ overrides: [String: JSONValue] = [:], removing: [String] = []) -> [String: JSONValue] {
        TestIssuer.claims(overrides, removing: removing)
    }
    private var now: Int64 { Int64(Date().timeIntervalSince1970) }

    func testValidTokensOfEveryAlgorithmMapThePrincipal() async throws {
        for kid in ["rsa-1", "ec-1", "ed-1"] {
            let token = try await idp.token(kid: kid)
            let p = XCTAssertAccepted(await check(token))
            XCTAssertEqual(p?.id, "alice", kid)
            XCTAssertEqual(p?.tenant, "acme", kid)
            XCTAssertEqual(p?.roles, ["analyst", "viewer"], kid)
            // Numbers become text; an unmapped claim ("dept") is simply absent.
            XCTAssertEqual(p?.attributes, ["region": "eu", "clearance": "3"], kid)
        }
    }

    func testRolesAsSpaceSeparatedStringAndAbsentRoles() async throws {
        let spaced = XCTAssertAccepted(await check(try await idp.token(kid: "ec-1", claims: claims(["roles": "a b  c"]))))
        XCTAssertEqual(spaced?.roles, ["a", "b", "c"])
        let none = XCTAssertAccepted(await check(try await idp.token(kid: "ec-1", claims: claims(removing: ["roles"]))))
        XCTAssertEqual(none?.roles, [])
    }

    func testExpiredTokenRefused() async throws {
        let token = try await idp.token(kid: "rsa-1", claims: claims(["exp": .int(now - 120)]))
        XCTAssertRefused(await check(token), "token expired")
    }

    func testTokenWithoutExpiryRefused() async throws {
        let token = try await idp.token(kid: "rsa-1", claims: claims(removing: ["exp"]))
        XCTAssertRefused(await check(token), "token has no expiry")
    }

    func testNotYetValidTokenRefused() async throws {
        let token = try await idp.token(kid: "rsa-1", claims: claims(["nbf": .int(now + 120)]))
        XCTAssertRefused(await check(token), "token is not valid yet")
    }

    func testExpAndNbfWithinClockSkewAccepted() async throws {
        // Default skew is 60 s: 30 s past expiry and 30 s before nbf are both tolerated.
        let token = try await idp.token(kid: "ed-1", claims: claims(["exp": .int(now - 30), "nbf": .int(now + 30)]))
        XCTAssertAccepted(await check(token))
    }

    func testWrongAudienceRefused() async throws {
        let token = try await idp.token(kid: "rsa-1", claims: claims(["aud": "https://other.example.com/mcp"]))
        XCTAssertRefused(await check(token), "token audience does not match this resource")
    }

    func testAudienceArrayContainingOursAccepted() async throws {
        let aud: JSONValue = ["https://other.example.com", .string(TestIssuer.audience)]
        let token = try await idp.token(kid: "rsa-1", claims: claims(["aud": aud]))
        let accepted = XCTAssertAccepted(await check(token))
        XCTAssertEqual(accepted?.id, "alice")
        let without = try await idp.token(kid: "rsa-1", claims: claims(["aud": ["https://other.example.com"]]))
        XCTAssertRefused(await check(without), "token audience does not match this resource")
    }

    func testWrongIssuerRefused() async throws {
        let token = try await idp.token(kid: "rsa-1", claims: claims(["iss": "https://evil.example.com"]))
        XCTAssertRefused(await check(token), "token issuer is not trusted")
    }

    func testMissingTenantRefused() async throws {
        let token = try await idp.token(kid: "rsa-1", claims: claims(removing: ["tenant"]))
        XCTAssertRefused(await check(token), "token carries no tenant")
        let tooLong = try await idp.token(kid: "rsa-1", claims: claims(["tenant": .string(String(repeating: "t", count: 65))]))
        XCTAssertRefused(await check(tooLong), "token tenant is not valid")
    }

    func testMissingSubjectRefused() async throws {
        let token = try await idp.token(kid: "rsa-1", claims: claims(removing: ["sub"]))
        XCTAssertRefused(await check(token), "token carries no valid principal")
    }

    func testMissingRequiredScopeIs403() async throws {
        let strict = try await BrokerAuthenticator(
            settings: fixture.settings { $0.requiredScopes = ["mcp:tools", "mcp:admin"] }, logger: AuthFixture.logger)
        let token = try await idp.token(kid: "rsa-1")  // scope "mcp:tools openid"
        let result = await strict.authenticate(authorization: "Bearer \(token)")
        XCTAssertRefused(result, status: 403, error: "insufficient_scope", "token lacks a required scope")
        if case .failure(let c) = result { XCTAssertEqual(c.scope, "mcp:tools mcp:admin") }

        // Granted through `scp` (array) plus `scope` (string) together: accepted.
        let both = try await idp.token(kid: "rsa-1", claims: claims(["scp": ["mcp:admin"]]))
        XCTAssertAccepted(await strict.authenticate(authorization: "Bearer \(both)"))
    }

    func testCustomClaimMapping() async throws {
        let custom = try await BrokerAuthenticator(
            settings: fixture.settings {
                $0.claims.principal = "email"
                $0.claims.tenant = "org"
                $0.claims.roles = "groups"
                $0.claims.attributes = ["admin": "is_admin"]
            }, logger: AuthFixture.logger)
        let token = try await idp.token(
            kid: "ed-1", claims: claims(["email": "bob@example.com", "org": "globex", "groups": ["ops"], "is_admin": true]))
        let p = XCTAssertAccepted(await custom.authenticate(authorization: "Bearer \(token)"))
        XCTAssertEqual(p, Principal(id: "bob@example.com", tenant: "globex", roles: ["ops"], attributes: ["admin": "true"]))
    }
}
