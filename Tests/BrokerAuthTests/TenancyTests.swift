// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import XCTest

@testable import BrokerAuth

/// Fail closed on tenancy: a correctly signed token or a known key of a tenant the broker does not serve gets no
/// principal.
final class TenancyTests: XCTestCase {
    func testValidJWTOfAnUndeclaredTenantIs403WithoutAPrincipal() async throws {
        let fixture = try AuthFixture()
        let idp = try await TestIssuer.make()
        try fixture.writeJWKS(idp.jwks())
        let auth = try await BrokerAuthenticator(settings: fixture.settings(), logger: AuthFixture.logger)
        let served = try await idp.token(kid: "rsa-1", claims: TestIssuer.claims(["tenant": "globex"]))
        let globex = XCTAssertAccepted(await auth.authenticate(authorization: "Bearer \(served)"))
        XCTAssertEqual(globex?.tenant, "globex")
        let initech = try await idp.token(kid: "rsa-1", claims: TestIssuer.claims(["tenant": "initech"]))
        XCTAssertRefused(
            await auth.authenticate(authorization: "Bearer \(initech)"), status: 403, error: "access_denied",
            "tenant 'initech' is not served by this broker")
        // The refusal does not depend on the verified-token cache: the same token again is refused again.
        XCTAssertRefused(
            await auth.authenticate(authorization: "Bearer \(initech)"), status: 403, error: "access_denied",
            "tenant 'initech' is not served by this broker")
        // A hostile tenant claim is echoed bounded and printable only.
        let hostile = try await idp.token(kid: "rsa-1", claims: TestIssuer.claims(["tenant": .string("a'b\"" + String(repeating: "x", count: 60))]))
        guard case .failure(let c) = await auth.authenticate(authorization: "Bearer \(hostile)") else { return XCTFail("hostile tenant accepted") }
        XCTAssertEqual(c.status, 403)
        XCTAssertEqual(c.description, "tenant 'a?b?" + String(repeating: "x", count: 60) + "' is not served by this broker")
        XCTAssertEqual(Tenancy.printable(String(repeating: "y", count: 100) + "\r\n"), String(repeating: "y", count: 64) + "…")
        XCTAssertEqual(Tenancy.printable("ok\u{7}\u{1F600}"), "ok??")
    }

    func testAPIKeyOfAnUndeclaredTenantIs403() async throws {
        let key = APIKeyGenerator.generate()
        var s = AuthSettings(resource: "https://broker.example.com/mcp")
        s.apiKeys = [APIKeyEntry(principal: Principal(id: "svc", tenant: "initech"), sha256: try XCTUnwrap(Self.bytes(key.hash)))]
        s.tenants = ["acme"]
        let auth = try await BrokerAuthenticator(settings: s, logger: AuthFixture.logger)
        XCTAssertRefused(
            await auth.authenticate(authorization: "Bearer \(key.key)"), status: 403, error: "access_denied",
            "tenant 'initech' is not served by this broker")
        s.tenants = ["acme", "initech"]
        let served = try await BrokerAuthenticator(settings: s, logger: AuthFixture.logger)
        let initech = XCTAssertAccepted(await served.authenticate(authorization: "Bearer \(key.key)"))
        XCTAssertEqual(initech?.tenant, "initech")
    }

    func testDeclaredTenantsComeFromServerTenantsOrTheWholeConfiguration() throws {
        let key = APIKeyGenerator.generate().hash
        let derived = try BrokerConfiguration.parse(yaml: """
            server:
              http: { auth: { resource: "https://b.example/mcp", api_keys: [ { id: k, tenant: hooli, hash: "\(key)" } ] } }
              stdio: { principal: { id: me, tenant: acme } }
            backends:
              crm: { kind: rest, tenants: { globex: { auth: { type: none } } } }
              erp: { kind: mock-erp, system: { tenants: [umbrella] } }
              wh: { kind: postgres, tenants: { initrode: {} } }
            """)
        XCTAssertEqual(derived.declaredTenants, ["hooli", "acme", "globex", "umbrella", "initrode"])
        XCTAssertEqual(derived.server.http.auth?.tenants, ["hooli", "acme", "globex", "umbrella", "initrode"], "handed to authentication")
        let explicit = try BrokerConfiguration.parse(yaml: """
            server:
              tenants: [acme]
              http: { auth: { resource: "https://b.example/mcp", api_keys: [ { id: k, tenant: hooli, hash: "\(key)" } ] } }
              stdio: { principal: { id: me, tenant: acme } }
            backends:
              crm: { kind: rest, tenants: { globex: { auth: { type: none } } } }
            """)
        XCTAssertEqual(explicit.server.http.auth?.tenants, ["acme"], "server.tenants wins over everything the configuration names")
        let defaults = try BrokerConfiguration.parse(yaml: """
            server:
              http: { auth: { resource: "https://b.example/mcp", api_keys: [ { id: k, tenant: hooli, hash: "\(key)" } ] } }
            """)
        XCTAssertEqual(defaults.declaredTenants, ["hooli"], "the built-in default principal's tenant 'default' is not served")
    }

    func testStdioPrincipalMustBeOfADeclaredTenant() {
        XCTAssertThrowsError(try BrokerConfiguration.parse(yaml: """
            server:
              tenants: [acme, globex]
              stdio: { principal: { id: me, tenant: initech } }
            """)) { error in
            XCTAssertEqual(
                (error as? ConfigError)?.description,
                "<inline>:3: server.stdio: the stdio principal's tenant 'initech' is not in server.tenants [\"acme\", \"globex\"]; set server.stdio.principal to a served tenant")
        }
        XCTAssertThrowsError(try BrokerConfiguration.parse(yaml: "server: { tenants: [] }")) { error in
            XCTAssertTrue("\(error)".contains("must name at least one tenant"), "\(error)")
        }
    }

    private static func bytes(_ hash: String) -> [UInt8]? {
        let hex = Array(hash.dropFirst(7).utf8)
        var out: [UInt8] = []
        var i = 0
        while i + 1 < hex.count {
            guard let b = UInt8(String(decoding: hex[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(b)
            i += 2
        }
        return out
    }
}
