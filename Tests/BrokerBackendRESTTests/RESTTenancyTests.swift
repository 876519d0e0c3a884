// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
import XCTest

@testable import BrokerBackendREST

/// Credential sets per tenant and the OAuth token cache, against a real HTTP server and real libcurl.
final class RESTTenancyTests: XCTestCase {
    private var server: CurlTestServer?

    override func setUpWithError() throws {
        server = try CurlTestServer()
        setenv("RTT_SECRET", "client-secret", 1)
    }

    override func tearDown() { server?.stop() }

    private func backend(_ credentials: String, tokenQuery: String = "expires=3600") throws -> any Backend {
        let port = try XCTUnwrap(server).port
        let oauth = "{ type: oauth2_client_credentials, token_url: \"http://127.0.0.1:\(port)/token?\(tokenQuery)\", client_id: c, client_secret: env:RTT_SECRET }"
        let yaml = """
            base_url: http://127.0.0.1:\(port)
            internal: true
            \(credentials.replacingOccurrences(of: "OAUTH", with: oauth))
            tools:
              echo: { description: Echo., method: GET, path: /echo }
              item: { description: One item., method: GET, path: "/echo/items/{id}", parameters: { id: { in: path, type: string, required: true } } }
            """
        return try REST.kind.make(BackendSetup(name: "crm", settings: try ConfigNode.parse(yaml: yaml, file: "t.yaml"), logger: Logger(label: "t")))
    }

    private func context(_ tenant: String) -> CallContext {
        CallContext(principal: Principal(id: "u", tenant: tenant), correlationID: "c", deadline: .now + .seconds(10), logger: Logger(label: "t"))
    }

    /// The `Authorization` header the echo endpoint received.
    private func authorization(_ b: any Backend, tenant: String) async throws -> String? {
        let out = try await b.callTool("echo", arguments: [:], context: context(tenant))
        let pair = out.structured?["headers"]?.arrayValue?.compactMap(\.arrayValue).first { $0.first?.stringValue?.lowercased() == "authorization" }
        return pair?.last?.stringValue
    }

    private func serverJSON(_ path: String) async throws -> JSONValue {
        let client = CurlClient(name: "probe")
        defer { client.shutdown() }
        return try JSONParser.parse(try await client.perform(CurlRequest(method: "GET", url: try XCTUnwrap(server).url(path))).body)
    }

    func testTenantWithoutOwnCredentialsIsRefusedBeforeAnyRequest() async throws {
        let b = try backend("tenants: { acme: { auth: OAUTH } }")
        let acme = try await authorization(b, tenant: "acme")
        XCTAssertEqual(acme, "Bearer tok-1")
        let targetsBefore = try await serverJSON("/seen")["targets"]?.arrayValue?.count
        do {
            _ = try await b.callTool("echo", arguments: [:], context: context("initech"))
            XCTFail("initech must not ride on acme's credential set")
        } catch let e as BrokerError {
            XCTAssertEqual(e.code, .forbidden)
            XCTAssertEqual(e.message, "The crm system has no credentials for your organisation; ask your administrator to add tenants.initech to backend crm.")
        }
        let targetsAfter = try await serverJSON("/seen")["targets"]?.arrayValue?.count
        XCTAssertEqual(targetsBefore, targetsAfter, "no request at all, not even a token fetch")
        // A hostile tenant name is echoed bounded and printable.
        do {
            _ = try await b.callTool("echo", arguments: [:], context: context(String(repeating: "\u{7}z", count: 100)))
            XCTFail("refused")
        } catch let e as BrokerError {
            XCTAssertTrue(e.message.contains("tenants." + String(repeating: "?z", count: 32) + "… to backend crm."), e.message)
        }
    }

    func testSharedCredentialsMustBeDeclared() async throws {
        XCTAssertThrowsError(try backend("auth: OAUTH")) { error in
            XCTAssertTrue("\(error)".contains("backend-level auth is used only with shared_credentials: true"), "\(error)")
        }
        XCTAssertThrowsError(try backend("")) { error in
            XCTAssertTrue("\(error)".contains("no tenant can use this backend"), "\(error)")
        }
        let shared = try backend("shared_credentials: true\nauth: OAUTH")
        let initech = try await authorization(shared, tenant: "initech")
        XCTAssertNotNil(initech, "declared shared: any tenant uses the backend-level set")
        let scope = try XCTUnwrap(shared as? any CredentialScopeReporting)
        XCTAssertTrue(scope.usesSharedCredentials)
        XCTAssertTrue(scope.credentialScopeSummary.hasPrefix("shared credentials: yes"), scope.credentialScopeSummary)
        let own = try XCTUnwrap(try backend("tenants: { acme: { auth: OAUTH }, globex: { auth: OAUTH } }") as? any CredentialScopeReporting)
        XCTAssertEqual(own.credentialScopeSummary, "shared credentials: no (own credential sets: acme, globex; any other tenant is refused)")
    }

    func testTokenCacheIsPerTenantEvenWithTheSameOAuthClient() async throws {
        // Both tenants configured with the very same client: the old cache key (URL, client, scope) handed acme's
        // token to globex.
        let b = try backend("tenants: { acme: { auth: OAUTH }, globex: { auth: OAUTH } }")
        let acme = try await authorization(b, tenant: "acme")
        let globex = try await authorization(b, tenant: "globex")
        XCTAssertNotNil(acme)
        XCTAssertNotEqual(acme, globex, "each tenant fetches and uses its own token")
        let again = try await authorization(b, tenant: "acme")
        XCTAssertEqual(again, acme, "and each tenant's token is cached")
        let issued = try await serverJSON("/token-count")["issued"]
        XCTAssertEqual(issued, 2)
        let shared = try backend("shared_credentials: true\nauth: OAUTH")
        let one = try await authorization(shared, tenant: "acme")
        let other = try await authorization(shared, tenant: "initech")
        XCTAssertNotEqual(one, other, "a shared client still gets one token per tenant")
    }

    func testHostileExpiresInNeverTrapsAndIsClamped() async throws {
        // (raw expires_in JSON, whether the token is cached for the next call)
        let cases: [(String, Bool)] = [
            ("-9223372036854775808", false), ("9223372036854775807", true), ("-5", false), ("0", false), ("12.7", true),
            ("1e308", true), ("-1e308", false), ("99999999999999999999999", true), ("%22soon%22", true), ("null", true),
            ("absent", true), ("%7B%7D", true),
        ]
        for (raw, cached) in cases {
            let b = try backend("tenants: { acme: { auth: OAUTH } }", tokenQuery: "expires=\(raw)")
            let before = try await serverJSON("/token-count")["issued"]?.intValue ?? 0
            let first = try await authorization(b, tenant: "acme")
            let second = try await authorization(b, tenant: "acme")
            XCTAssertNotNil(first, raw)
            let issued = (try await serverJSON("/token-count")["issued"]?.intValue ?? 0) - before
            XCTAssertEqual(issued, cached ? 1 : 2, "expires_in \(raw)")
            XCTAssertEqual(first == second, cached, raw)
        }
        XCTAssertEqual(CredentialProvider.tokenLifetime(.int(.min)), 0)
        XCTAssertEqual(CredentialProvider.tokenLifetime(.int(.max)), 86_400)
        XCTAssertEqual(CredentialProvider.tokenLifetime(.double(.nan)), 300)
        XCTAssertEqual(CredentialProvider.tokenLifetime(.double(-.infinity)), 300)
        XCTAssertEqual(CredentialProvider.tokenLifetime(.double(59.9)), 59)
        XCTAssertEqual(CredentialProvider.tokenLifetime(.string("3600")), 300)
        XCTAssertEqual(CredentialProvider.tokenLifetime(nil), 300)
    }
}
