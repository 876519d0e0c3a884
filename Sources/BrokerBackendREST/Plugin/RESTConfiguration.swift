// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore

/// The settings of one `kind: rest` backend.
///
/// ## Configuration keys
/// - `base_url` (required): scheme, host and optional port and path prefix. Requests go only to this host.
/// - `internal` (false): allow `http://` and private, loopback or link-local addresses (an internal service).
/// - `auth`: `{type: none|bearer|basic|api_key|oauth2_client_credentials, ...}` with secrets as `env:`/`file:`;
///   `tls_client`: `{certificate: file-or-env PEM, key: …}` for mutual TLS; `ca_file` for a private CA.
/// - `tenants`: per-tenant credential sets (`<tenant>: {auth: {...}}`).
/// - `shared_credentials` (false): let a tenant without its own `tenants.<t>` entry use the backend-level
///   `auth`. Off by default: one tenant's credential set must never silently serve another tenant.
/// - `limits`: `connect_timeout_ms` (3000), `timeout_ms` (10000), `low_speed_bytes_per_s` (100),
///   `low_speed_time_s` (5), `max_body_bytes` (4194304), `max_json_depth` (64).
/// - `retries`: `max_attempts` (3), `base_delay_ms` (100), `max_delay_ms` (2000).
/// - `errors`: per-status business messages for every tool (`"404": "Not found in CRM."`).
/// - `openapi`: `{file (relative to this config file), operations: [ids], tags: [..], rename: {id: tool}, descriptions: {tool: text}}`.
/// - `tools`: declared operations (see `RESTOperation.parse`).
struct RESTConfiguration: Sendable {
    var description: String?
    var baseURL: URLComponents
    var host: String
    var port: Int
    var scheme: String
    var pathPrefix: String
    var isInternal = false
    var auth: RESTAuth = .none
    var tenantAuth: [String: RESTAuth] = [:]
    /// Whether `auth` serves every tenant without its own entry in ``tenantAuth``.
    var sharedCredentials = false
    var clientCertificate: SecretReference?
    var clientKey: SecretReference?
    var caFile: String?
    var connectTimeout: Duration = .milliseconds(3000)
    var timeout: Duration = .milliseconds(10_000)
    var lowSpeedLimit = 100
    var lowSpeedTime: Duration = .seconds(5)
    var maxBodyBytes = 4 << 20
    var maxJSONDepth = 64
    var maxAttempts = 3
    var baseDelay: Duration = .milliseconds(100)
    var maxDelay: Duration = .milliseconds(2000)
    var errorMessages: [Int: String] = [:]
    var operations: [RESTOperation] = []

    init(_ s: ConfigNode) throws(ConfigError) {
        description = try s.optionalString("description")
        let base = try s.string("base_url")
        guard let c = URLComponents(string: base), let scheme = c.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = c.host?.lowercased(), !host.isEmpty, c.query == nil, c.fragment == nil, c.user == nil
        else { throw s.error("base_url", "must be an absolute http(s) URL without credentials, query or fragment") }
        baseURL = c
        self.scheme = scheme
        self.host = host
        port = c.port ?? (scheme == "https" ? 443 : 80)
        pathPrefix = c.path.hasSuffix("/") ? String(c.path.dropLast()) : c.path
        isInternal = try s.bool("internal", default: false)
        if scheme == "http" && !isInternal {
            throw s.error("base_url", "plain http:// is allowed only for backends declared internal: true")
        }
        if let a = try s.section("auth") { auth = try RESTAuth.parse(a) }
        if let t = try s.section("tenants") {
            for tenant in t.keys {
                guard let section = try t.section(tenant), let a = try section.section("auth") else { throw t.error(tenant, "expected {auth: {...}}") }
                tenantAuth[tenant] = try RESTAuth.parse(a)
                try section.finish()
            }
            try t.finish()
        }
        sharedCredentials = try s.bool("shared_credentials", default: false)
        try checkCredentialScope(s)
        if let tls = try s.section("tls_client") {
            clientCertificate = try tls.secret("certificate")
            clientKey = try tls.secret("key")
            try tls.finish()
        }
        caFile = try s.optionalString("ca_file")
        if let l = try s.section("limits") {
            connectTimeout = .milliseconds(try l.int("connect_timeout_ms", default: 3000, range: 10...60_000))
            timeout = .milliseconds(try l.int("timeout_ms", default: 10_000, range: 10...600_000))
            lowSpeedLimit = try l.int("low_speed_bytes_per_s", default: 100, range: 1...(1 << 30))
            lowSpeedTime = .seconds(try l.int("low_speed_time_s", default: 5, range: 1...600))
            maxBodyBytes = try l.int("max_body_bytes", default: 4 << 20, range: 1024...(256 << 20))
            maxJSONDepth = try l.int("max_json_depth", default: 64, range: 2...512)
            try l.finish()
        }
        if let r = try s.section("retries") {
            maxAttempts = try r.int("max_attempts", default: 3, range: 1...10)
            baseDelay = .milliseconds(try r.int("base_delay_ms", default: 100, range: 1...60_000))
            maxDelay = .milliseconds(try r.int("max_delay_ms", default: 2000, range: 1...600_000))
            try r.finish()
        }
        if let e = try s.section("errors") { errorMessages = try Self.readErrors(e) }
        if let o = try s.section("openapi") {
            // A relative document path is relative to the config file, so a config directory is self-contained.
            let given = try o.string("file")
            let file = given.hasPrefix("/") ? given : URL(fileURLWithPath: o.file).deletingLastPathComponent().appendingPathComponent(given).path
            let filter = OperationFilter(operationIds: Set(try o.stringList("operations")), tags: Set(try o.stringList("tags")))
            var renames: [String: String] = [:]
            if let r = try o.section("rename") {
                for k in r.keys { renames[k] = try r.string(k) }
                try r.finish()
            }
            var descriptions: [String: String] = [:]
            if let d = try o.section("descriptions") {
                for k in d.keys { descriptions[k] = try d.string(k) }
                try d.finish()
            }
            try o.finish()
            operations += try OpenAPIImport.operations(fromFile: file, include: filter, renames: renames, descriptions: descriptions)
        }
        if let t = try s.section("tools") {
            for name in t.keys {
                guard let section = try t.section(name) else { throw t.error(name, "expected a mapping") }
                operations.append(try RESTOperation.parse(name: name, section))
            }
            try t.finish()
        }
        var seen = Set<String>()
        for op in operations where !seen.insert(op.toolName).inserted {
            throw s.error("tools", "tool '\(op.toolName)' is defined twice (declared and imported?)")
        }
        if operations.isEmpty { throw s.error("tools", "declare at least one tool (tools: or openapi:)") }
        try s.finish()
    }

    /// Refuses a configuration whose credentials could serve nobody, or whose backend-level `auth` would never be
    /// used: both mean the operator expects a behaviour the broker will not have.
    private func checkCredentialScope(_ s: ConfigNode) throws(ConfigError) {
        guard !sharedCredentials else { return }
        if s.has("auth") {
            throw s.error(
                "auth", "backend-level auth is used only with shared_credentials: true (then every tenant without its own tenants.<tenant>.auth shares it); move it to tenants.<tenant>.auth or set shared_credentials: true")
        }
        if tenantAuth.isEmpty {
            throw s.error(nil, "no tenant can use this backend: give each tenant its own tenants.<tenant>.auth, or set shared_credentials: true with a backend-level auth")
        }
    }

    /// The credential set for `tenant`: its own, else the shared one when the backend declares it; `nil` means the
    /// tenant is not served.
    func auth(for tenant: String) -> RESTAuth? {
        tenantAuth[tenant] ?? (sharedCredentials ? auth : nil)
    }

    static func readErrors(_ e: ConfigNode) throws(ConfigError) -> [Int: String] {
        var out: [Int: String] = [:]
        for k in e.keys {
            guard let code = Int(k), (400...599).contains(code) else { throw e.error(k, "keys are HTTP statuses 400-599") }
            out[code] = try e.string(k)
        }
        try e.finish()
        return out
    }
}
