// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import MCPCore

/// The broker's ``Authenticator``: API keys (`mcpb_…`) and JWT bearer tokens from the configured issuer.
///
/// Both arrive as `Authorization: Bearer <credential>`; the `mcpb_` prefix tells them apart without parsing.
/// Every refusal is logged at `notice` with its reason, never with the credential.
public final class BrokerAuthenticator: Authenticator {
    private let apiKeys: APIKeyVerifier
    private let jwt: JWTVerifier?
    private let missingScope: String?
    private let tenants: Set<String>
    private let logger: Logger
    public let protectedResourceMetadata: JSONValue?

    /// Builds the authenticator and, when JWT is configured, loads the JWKS once.
    ///
    /// Async because of that first load: a broker that cannot read its issuer's keys would refuse every token,
    /// so it had better not start.
    /// - Throws: ``JWKSLoadError`` naming the JWKS source and why it could not be used.
    public init(settings: AuthSettings, logger: Logger) async throws {
        self.apiKeys = APIKeyVerifier(settings.apiKeys)
        self.tenants = settings.tenants
        self.logger = logger
        for key in settings.apiKeys where !settings.tenants.contains(key.principal.tenant) {
            logger.warning(
                "API key of a tenant this broker does not serve: it will be refused",
                metadata: ["principal": .string(key.principal.id), "tenant": .string(Tenancy.printable(key.principal.tenant))])
        }
        if let jwtSettings = settings.jwt {
            let source = try JWKSSource(file: jwtSettings.jwksFile, url: jwtSettings.jwksURL)
            let verifier = JWTVerifier(settings: jwtSettings, source: source, logger: logger)
            try await verifier.loadInitial()
            self.jwt = verifier
            self.missingScope = jwtSettings.requiredScopes.isEmpty ? nil : jwtSettings.requiredScopes.joined(separator: " ")
            self.protectedResourceMetadata = .object([
                "resource": .string(settings.resource),
                "authorization_servers": .array(settings.authorizationServers.map(JSONValue.string)),
                "scopes_supported": .array(settings.scopesSupported.map(JSONValue.string)),
                "bearer_methods_supported": ["header"],
                "resource_name": "mcp-broker",
            ])
        } else {
            self.jwt = nil
            self.missingScope = nil
            self.protectedResourceMetadata = nil
        }
    }

    /// Verifies an `Authorization` header value.
    public func authenticate(authorization: String?) async -> Result<Principal, AuthChallenge> {
        let result = await check(authorization)
        if case .failure(let challenge) = result {
            // No credentials is the normal first step of OAuth discovery, not a refusal worth an operator's eye.
            let level: Logger.Level = challenge.error == nil ? .debug : .notice
            logger.log(
                level: level, "authentication refused",
                metadata: [
                    "auth_status": "\(challenge.status)", "auth_error": "\(challenge.error ?? "none")",
                    "reason": "\(challenge.description)",
                ])
        }
        return result
    }

    private func check(_ authorization: String?) async -> Result<Principal, AuthChallenge> {
        let credential: String
        switch Self.bearerCredential(authorization) {
        case .none: return .failure(.missing(scope: missingScope))
        case .some(.failure(let challenge)): return .failure(challenge)
        case .some(.success(let c)): credential = c
        }
        let verified: Result<Principal, AuthChallenge>
        if credential.hasPrefix(APIKeyVerifier.prefix) {
            guard let principal = apiKeys.principal(forKey: credential) else { return .failure(.invalidToken("unknown API key")) }
            verified = .success(principal)
        } else {
            guard let jwt else { return .failure(.invalidToken("bearer tokens are not accepted here; use an API key")) }
            verified = await jwt.verify(credential)
        }
        // Fail closed on tenancy here, before any principal exists: no backend has to guess what an unknown
        // tenant means.
        if case .success(let principal) = verified, !tenants.contains(principal.tenant) {
            return .failure(Tenancy.notServed(principal.tenant))
        }
        return verified
    }

    /// How many times the JWKS was refreshed after start (tests of the refresh policy).
    var jwksRefreshCount: Int { jwt?.refreshCount ?? 0 }
}

extension BrokerAuthenticator {
    /// The credential of an `Authorization: Bearer <credential>` header: `nil` when there is none, a challenge
    /// when it is malformed.
    ///
    /// Works on UTF-8 bytes: a JWT is about a kilobyte, and Character-by-Character trimming and splitting showed up
    /// in profiles at a third of a millisecond per request.
    static func bearerCredential(_ header: String?) -> Result<String, AuthChallenge>? {
        guard let header else { return nil }
        let u = Array(header.utf8)
        var lo = 0, hi = u.count
        while lo < hi, u[lo] == 0x20 || u[lo] == 0x09 { lo += 1 }
        while hi > lo, u[hi - 1] == 0x20 || u[hi - 1] == 0x09 { hi -= 1 }
        guard lo < hi else { return nil }
        var space = lo
        while space < hi, u[space] != 0x20 { space += 1 }
        let scheme = u[lo..<space]
        guard scheme.count == 6, zip(scheme, "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 }), space < hi else {
            return .failure(.invalidRequest("authorization scheme must be Bearer"))
        }
        var start = space
        while start < hi, u[start] == 0x20 || u[start] == 0x09 { start += 1 }
        let credential = u[start..<hi]
        guard !credential.isEmpty, !credential.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            return .failure(.invalidRequest("malformed Bearer credential"))
        }
        return .success(String(decoding: credential, as: UTF8.self))
    }
}
