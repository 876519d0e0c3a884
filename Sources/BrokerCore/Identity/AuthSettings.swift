// SPDX-License-Identifier: Apache-2.0

import Foundation

/// One machine tenant's API key, as stored: only the SHA-256 of the key, never the key.
public struct APIKeyEntry: Sendable, Equatable {
    /// The principal the key authenticates as (and its tenant, roles and attributes).
    public var principal: Principal
    /// SHA-256 of the whole key text (`mcpb_…`), 32 bytes.
    public var sha256: [UInt8]

    public init(principal: Principal, sha256: [UInt8]) {
        self.principal = principal
        self.sha256 = sha256
    }
}

/// Which token claims carry the principal, tenant, roles and attributes.
public struct ClaimMapping: Sendable, Equatable {
    /// Claim holding the principal id.
    public var principal = "sub"
    /// Claim holding the tenant; a token without it is refused (tenant comes only from verified identity).
    public var tenant = "tenant"
    /// Claim holding roles: an array of strings or one space-separated string.
    public var roles = "roles"
    /// Principal attribute name → claim name (e.g. `region: region`, `department: dept`).
    public var attributes: [String: String] = [:]

    public init() {}
}

/// The OAuth 2.1 resource-server settings: which tokens the broker accepts.
public struct JWTSettings: Sendable, Equatable {
    /// Required `iss`.
    public var issuer: String
    /// Required `aud` value: the broker's canonical resource URI.
    public var audience: String
    /// A JWKS document on disk (re-read when a token names an unknown `kid`).
    public var jwksFile: String?
    /// A JWKS URL (fetched at start and when a token names an unknown `kid`).
    public var jwksURL: String?
    /// Accepted algorithms; only asymmetric ones (`RS256`, `ES256`, `EdDSA`) are allowed at all.
    public var algorithms: [String] = ["RS256", "ES256", "EdDSA"]
    /// Tolerance for `exp` and `nbf`.
    public var clockSkewSeconds = 60
    /// Tokens longer than this are refused before any parsing.
    public var maxTokenBytes = 8192
    /// Unknown `kid` refreshes the key set at most this often.
    public var refreshMinIntervalSeconds = 30
    /// Scopes every token must carry (space-separated `scope` claim or `scp` array).
    public var requiredScopes: [String] = []
    public var claims = ClaimMapping()

    /// The algorithms the broker can ever accept; `none` and HMAC are refused at load.
    public static let permittedAlgorithms: Set<String> = ["RS256", "ES256", "EdDSA"]

    public init(issuer: String, audience: String) {
        self.issuer = issuer
        self.audience = audience
    }
}

/// How HTTP requests are authenticated (`server.http.auth`).
public struct AuthSettings: Sendable, Equatable {
    /// The broker's canonical resource URI (RFC 8707 / RFC 9728 `resource`), e.g. `https://broker.example.com/mcp`.
    public var resource: String
    /// API keys for machine tenants.
    public var apiKeys: [APIKeyEntry] = []
    /// `api_keys_file`, when keys come from a separate file: the reload watch re-reads it when it changes.
    public var apiKeysFile: String?
    /// JWT bearer tokens from an OAuth authorization server.
    public var jwt: JWTSettings?
    /// Authorization servers advertised in the Protected Resource Metadata (default: the JWT issuer).
    public var authorizationServers: [String] = []
    /// Scopes advertised in the Protected Resource Metadata.
    public var scopesSupported: [String] = []
    /// The tenants this broker serves (``BrokerConfiguration/declaredTenants``, filled in once the whole
    /// configuration is loaded). A verified key or token of any other tenant is refused with 403; empty refuses
    /// everyone, so forgetting to fill it fails closed.
    public var tenants: Set<String> = []

    public init(resource: String) { self.resource = resource }
}

extension BrokerConfiguration {
    /// Reads `server.http.auth`.
    static func readAuth(_ a: ConfigNode) throws(ConfigError) -> AuthSettings {
        let resource = try a.string("resource")
        guard let url = URL(string: resource), let scheme = url.scheme, scheme == "https" || scheme == "http", url.host != nil,
            url.fragment == nil
        else { throw a.error("resource", "must be an absolute http(s) URI without a fragment (the broker's canonical MCP URL)") }
        var out = AuthSettings(resource: resource)
        for k in try a.sectionList("api_keys") { out.apiKeys.append(try readAPIKey(k)) }
        if let file = try a.optionalPath("api_keys_file") {
            out.apiKeysFile = file
            let root = try ConfigNode.load(file: file)
            for k in try root.sectionList("api_keys") { out.apiKeys.append(try readAPIKey(k)) }
            try root.finish()
        }
        var seen = Set<[UInt8]>()
        for k in out.apiKeys where !seen.insert(k.sha256).inserted {
            throw a.error("api_keys", "two API keys have the same hash (principal \(k.principal.id))")
        }
        if let j = try a.section("jwt") { out.jwt = try readJWT(j, resource: resource) }
        out.authorizationServers = try a.stringList("authorization_servers")
        if out.authorizationServers.isEmpty, let issuer = out.jwt?.issuer { out.authorizationServers = [issuer] }
        out.scopesSupported = try a.stringList("scopes_supported")
        if out.scopesSupported.isEmpty { out.scopesSupported = out.jwt?.requiredScopes ?? [] }
        guard !out.apiKeys.isEmpty || out.jwt != nil else {
            throw a.error(nil, "configure api_keys, api_keys_file or jwt: with none, nobody could call")
        }
        try a.finish()
        return out
    }

    static func readAPIKey(_ k: ConfigNode) throws(ConfigError) -> APIKeyEntry {
        let hash = try k.string("hash")
        guard hash.hasPrefix("sha256:"), let bytes = Self.hexBytes(String(hash.dropFirst(7))), bytes.count == 32 else {
            throw k.error("hash", "must be sha256:<64 hex digits> (generate with `mcp-broker hash-key`)")
        }
        k.markRead("hash")
        let principal = try readPrincipal(k)
        return APIKeyEntry(principal: principal, sha256: bytes)
    }

    static func readJWT(_ j: ConfigNode, resource: String) throws(ConfigError) -> JWTSettings {
        var out = JWTSettings(issuer: try j.string("issuer"), audience: try j.string("audience", default: resource))
        out.jwksFile = try j.optionalPath("jwks_file")
        out.jwksURL = try j.optionalString("jwks_url")
        guard (out.jwksFile == nil) != (out.jwksURL == nil) else { throw j.error(nil, "give exactly one of jwks_file or jwks_url") }
        if let u = out.jwksURL, !KeySetURL.isAllowed(u) {
            throw j.error("jwks_url", "must be https (plain http only to localhost, 127.0.0.0/8 or [::1]; no user info)")
        }
        if j.has("algorithms") { out.algorithms = try j.stringList("algorithms") }
        for alg in out.algorithms where !JWTSettings.permittedAlgorithms.contains(alg) {
            throw j.error("algorithms", "'\(alg)' is not allowed; use RS256, ES256 or EdDSA (never none or HMAC)")
        }
        guard !out.algorithms.isEmpty else { throw j.error("algorithms", "must name at least one algorithm") }
        out.clockSkewSeconds = try j.int("clock_skew_s", default: out.clockSkewSeconds, range: 0...300)
        out.maxTokenBytes = try j.int("max_token_bytes", default: out.maxTokenBytes, range: 512...65_536)
        out.refreshMinIntervalSeconds = try j.int("jwks_refresh_min_interval_s", default: out.refreshMinIntervalSeconds, range: 1...3600)
        out.requiredScopes = try j.stringList("required_scopes")
        if let c = try j.section("claims") {
            out.claims.principal = try c.string("principal", default: out.claims.principal)
            out.claims.tenant = try c.string("tenant", default: out.claims.tenant)
            out.claims.roles = try c.string("roles", default: out.claims.roles)
            if let attrs = try c.section("attributes") {
                for k in attrs.keys { out.claims.attributes[k] = try attrs.string(k) }
                try attrs.finish()
            }
            try c.finish()
        }
        try j.finish()
        return out
    }

    static func hexBytes(_ hex: String) -> [UInt8]? {
        let u = Array(hex.utf8)
        guard u.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let h = nibble(u[i]), let l = nibble(u[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }
}
