// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Crypto
import MCPCore
import XCTest

@testable import BrokerAuth

/// API keys, the `Authorization` header forms, and the Protected Resource Metadata.
final class AuthenticatorTests: XCTestCase {
    private let alice = Principal(id: "svc-reporting", tenant: "acme", roles: ["reader"], attributes: ["region": "eu"])

    /// Parses `sha256:<hex>` back to bytes, as configuration loading does.
    private func hashBytes(_ hash: String) throws -> [UInt8] {
        XCTAssertTrue(hash.hasPrefix("sha256:"))
        let hex = Array(hash.dropFirst(7).utf8)
        XCTAssertEqual(hex.count, 64)
        return try stride(from: 0, to: hex.count, by: 2).map { i in
            try XCTUnwrap(UInt8(String(decoding: hex[i..<i + 2], as: UTF8.self), radix: 16))
        }
    }

    private func apiKeyAuthenticator(_ keys: [(String, Principal)], tenants: Set<String> = ["acme", "globex"]) async throws -> BrokerAuthenticator {
        var s = AuthSettings(resource: "https://broker.example.com/mcp")
        s.tenants = tenants
        s.apiKeys = try keys.map { APIKeyEntry(principal: $0.1, sha256: try hashBytes($0.0)) }
        return try await BrokerAuthenticator(settings: s, logger: AuthFixture.logger)
    }

    func testGeneratedKeyShapeAndHash() throws {
        let (key, hash) = APIKeyGenerator.generate()
        XCTAssertTrue(key.hasPrefix("mcpb_"))
        XCTAssertEqual(key.count, 5 + 43)  // 32 bytes → 43 base64url characters, no padding
        XCTAssertEqual(Base64URL.decode(key.dropFirst(5))?.count, 32)
        XCTAssertEqual(try hashBytes(hash), Array(SHA256.hash(data: Array(key.utf8))))
        XCTAssertEqual(hash, hash.lowercased())
        XCTAssertNotEqual(APIKeyGenerator.generate().key, key)
    }

    func testValidAPIKeyAuthenticates() async throws {
        let mine = APIKeyGenerator.generate(), other = APIKeyGenerator.generate()
        let bob = Principal(id: "svc-billing", tenant: "globex")
        let auth = try await apiKeyAuthenticator([(other.hash, bob), (mine.hash, alice)])
        let accepted = XCTAssertAccepted(await auth.authenticate(authorization: "Bearer \(mine.key)"))
        XCTAssertEqual(accepted, alice)
        let acceptedBob = XCTAssertAccepted(await auth.authenticate(authorization: "bearer \(other.key)"))
        XCTAssertEqual(acceptedBob, bob)
    }

    func testWrongAPIKeyRefused() async throws {
        let mine = APIKeyGenerator.generate()
        let auth = try await apiKeyAuthenticator([(mine.hash, alice)])
        let wrong = APIKeyGenerator.generate().key
        XCTAssertRefused(await auth.authenticate(authorization: "Bearer \(wrong)"), "unknown API key")
        // The hash itself is no credential.
        XCTAssertRefused(await auth.authenticate(authorization: "Bearer mcpb_\(mine.hash)"), "unknown API key")
    }

    func testJWTRefusedWhenOnlyAPIKeysConfigured() async throws {
        let auth = try await apiKeyAuthenticator([(APIKeyGenerator.generate().hash, alice)])
        XCTAssertRefused(await auth.authenticate(authorization: "Bearer eyJ.eyJ.sig"), "bearer tokens are not accepted here; use an API key")
        XCTAssertNil(auth.protectedResourceMetadata)
    }

    func testMissingHeaderIs401WithoutErrorCode() async throws {
        let auth = try await apiKeyAuthenticator([(APIKeyGenerator.generate().hash, alice)])
        for header in [nil, "", "   "] as [String?] {
            guard case .failure(let c) = await auth.authenticate(authorization: header) else { return XCTFail("accepted \(header ?? "nil")") }
            XCTAssertEqual(c.status, 401)
            XCTAssertNil(c.error)
        }
    }

    func testNonBearerSchemeIs400() async throws {
        let key = APIKeyGenerator.generate()
        let auth = try await apiKeyAuthenticator([(key.hash, alice)])
        let scheme = "authorization scheme must be Bearer"
        XCTAssertRefused(await auth.authenticate(authorization: "Basic \(key.key)"), status: 400, error: "invalid_request", scheme)
        XCTAssertRefused(await auth.authenticate(authorization: "Bearer"), status: 400, error: "invalid_request", scheme)
        XCTAssertRefused(
            await auth.authenticate(authorization: "Bearer \(key.key) extra"), status: 400, error: "invalid_request",
            "malformed Bearer credential")
    }

    func testProtectedResourceMetadata() async throws {
        let fixture = try AuthFixture()
        let idp = try await TestIssuer.make()
        try fixture.writeJWKS(idp.jwks())
        let auth = try await BrokerAuthenticator(settings: fixture.settings { $0.requiredScopes = ["mcp:tools"] }, logger: AuthFixture.logger)
        let meta = try XCTUnwrap(auth.protectedResourceMetadata)
        XCTAssertEqual(meta["resource"], .string(TestIssuer.audience))
        XCTAssertEqual(meta["authorization_servers"], [.string(TestIssuer.issuer)])
        XCTAssertEqual(meta["scopes_supported"], ["mcp:tools"])
        XCTAssertEqual(meta["bearer_methods_supported"], ["header"])
        XCTAssertEqual(meta["resource_name"], "mcp-broker")
        // The 401 for a missing header names the scopes a client should request.
        guard case .failure(let c) = await auth.authenticate(authorization: nil) else { return XCTFail("accepted no credentials") }
        XCTAssertEqual(c.scope, "mcp:tools")
    }
}
