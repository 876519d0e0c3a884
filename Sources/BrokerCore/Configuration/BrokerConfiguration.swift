// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import MCPCore

/// Settings of the HTTP transport.
public struct HTTPSettings: Sendable {
    /// Bind address; loopback by default so a broker is never exposed by accident.
    public var host = "127.0.0.1"
    public var port = 8080
    /// The MCP endpoint path.
    public var path = "/mcp"
    /// Largest accepted request body (413 above it).
    public var maxBodyBytes = 256 * 1024
    /// Origins allowed to call (DNS-rebinding guard); requests without `Origin` are allowed.
    public var allowedOrigins: [String] = ["http://localhost", "http://127.0.0.1", "https://localhost", "https://127.0.0.1"]
    /// Connection idle timeout.
    public var idleTimeoutSeconds = 60
    /// A session unused for this long is ended.
    public var sessionIdleTimeoutSeconds = 1800
    /// Upper bound on live sessions (oldest idle one evicted beyond it).
    public var maxSessions = 10_000
    /// Sessions one principal may hold; opening more ends that principal's own least recently used session.
    public var maxSessionsPerPrincipal = 64
    /// How every request is authenticated (API keys, JWT bearer tokens). `nil` means local development mode:
    /// every request runs as ``principal``, which ``checkExposure()`` allows on loopback only.
    public var auth: AuthSettings?
    /// The principal of every request when ``auth`` is not configured (local development on loopback).
    public var principal = Principal(id: "http-anonymous", tenant: "default")
    /// Whether `principal` was set explicitly in the configuration.
    public var principalConfigured = false

    /// Refuses to serve without authentication on a non-loopback address.
    public func checkExposure() throws(ConfigError) {
        let loopback = ["127.0.0.1", "::1", "localhost"].contains(host)
        if auth == nil && !loopback {
            throw ConfigError(
                file: "configuration", path: "server.http.auth",
                reason: "binding \(host) without authentication would expose every backend; configure server.http.auth or bind 127.0.0.1")
        }
    }

    public init() {}
}

/// Settings shared by every transport.
public struct ServerSettings: Sendable {
    /// `serverInfo.name`.
    public var name = "mcp-broker"
    /// Instructions returned by `initialize`.
    public var instructions: String?
    /// Separator between backend and tool names (`hr__get_employee`).
    public var toolSeparator = "__"
    /// Items per page in list results.
    public var pageSize = 100
    /// Deadline for a tool call when the client sets none.
    public var defaultTimeoutMilliseconds = 30_000
    /// Minimum level for the broker's own stderr logs.
    public var logLevel: Logger.Level = .info
    public var http = HTTPSettings()
    /// Principal the stdio transport runs as (a local user).
    public var stdioPrincipal = Principal(id: "local-user", tenant: "default")
    /// Whether `server.stdio.principal` was set (only then does its tenant count as one the configuration names).
    public var stdioPrincipalConfigured = false
    /// Who may call what (top-level `policy` section); without one, everything is denied.
    public var policy = Policy.denyAll
    /// Whether a `policy` section was given (a broker without one denies every call, and says so at start).
    public var policyConfigured = false
    /// The audit sink (`server.audit`); `nil` writes no audit lines (and the broker warns at start).
    public var audit: AuditSettings?
    /// Rate limits, load shedding, retry budget and compression (`server.limits`).
    public var limits = ServerLimits()
    /// `server.tenants`: the only tenants served; `nil` derives them from the rest of the configuration
    /// (see ``BrokerConfiguration/declaredTenants``).
    public var tenants: [String]?
    /// The tenants served, explicit or derived (``BrokerConfiguration/declaredTenants``); filled in once every file is
    /// merged. The only tenant values a metric label takes (see ``TenantLabels``).
    public var servedTenants: Set<String> = []
    /// `server.metrics`: the Prometheus listener; `nil` means no listener and no metrics recorded.
    public var metrics: MetricsSettings?
    /// `server.tracing`: span export (the broker's own tracer without it).
    public var tracing = TracingSettings()
    /// `server.reload`: whether and how often the configuration files are polled for changes.
    public var reload = ReloadSettings()
    /// `server.request_state`: the key and lifetime of MRTR confirmation states (2026-07-28 clients).
    public var requestState = RequestStateSettings()
    /// `server.shared_state`: the Redis the replicas share; `nil` keeps all state in this process.
    public var sharedState: SharedStateSettings?

    public init() {}
}

/// `server.reload`: hot reload of the configuration (SIGHUP always reloads; this governs the file watch).
public struct ReloadSettings: Sendable, Equatable {
    /// Poll the configuration files (and the API key and JWKS files) for changes.
    public var watch = true
    /// How often the files are hashed, in milliseconds.
    public var intervalMilliseconds = 2000

    public init() {}
}

/// A parsed configuration: server settings plus one section per backend instance.
public struct BrokerConfiguration {
    public var server = ServerSettings()
    /// Backend sections in file order: (instance name, kind, settings).
    public var backends: [(name: String, kind: String, settings: ConfigNode)] = []

    public init() {}

    /// Loads a YAML file, or every `*.yaml`/`*.yml` file of a directory (sorted, merged).
    ///
    /// Server settings may appear in one file only; backend names must be unique across files.
    public static func load(path: String) throws(ConfigError) -> BrokerConfiguration {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ConfigError(file: path, path: "", reason: "no such file or directory")
        }
        let files = Self.files(at: path, isDirectory: isDir.boolValue)
        if isDir.boolValue && files.isEmpty { throw ConfigError(file: path, path: "", reason: "no .yaml files in this directory") }
        var config = BrokerConfiguration()
        var serverFile: String?
        for file in files {
            let root = try ConfigNode.load(file: file)
            if root.has("server") {
                if let serverFile { throw root.error("server", "server settings already given in \(serverFile)") }
                serverFile = file
            }
            try config.merge(root)
        }
        config.finishTenancy()
        return config
    }

    /// The files a configuration path stands for: the file itself, or a directory's `*.yaml`/`*.yml` files sorted
    /// by name (the order they are merged in, and the order the reload hash reads them in).
    public static func files(at path: String, isDirectory: Bool) -> [String] {
        guard isDirectory else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { path + "/" + $0 }
    }

    /// Loads `path`, lets `adjust` override settings (command-line options, or the settings a reload keeps), and
    /// refuses an exposed unauthenticated listener: the checks `mcp-broker validate` runs before building backends.
    public static func loadChecked(path: String, adjust: (inout ServerSettings) -> Void = { _ in }) throws(ConfigError) -> BrokerConfiguration {
        var configuration = try load(path: path)
        adjust(&configuration.server)
        try configuration.server.http.checkExposure()
        return configuration
    }

    /// Parses one YAML document (tests and the `validate` command).
    public static func parse(yaml: String, file: String = "<inline>") throws(ConfigError) -> BrokerConfiguration {
        var config = BrokerConfiguration()
        try config.merge(try ConfigNode.parse(yaml: yaml, file: file))
        config.finishTenancy()
        return config
    }

    mutating func merge(_ root: ConfigNode) throws(ConfigError) {
        if let s = try root.section("server") {
            let policy = server.policy, configured = server.policyConfigured
            server = try Self.readServer(s)
            server.policy = policy
            server.policyConfigured = configured
        }
        if let p = try root.section("policy") {
            if server.policyConfigured { throw root.error("policy", "the policy is already given in another file") }
            server.policy = try Self.readPolicy(p)
            server.policyConfigured = true
        }
        if let b = try root.section("backends") {
            for name in b.keys {
                guard let section = try b.section(name) else { throw b.error(name, "expected a mapping with a 'kind'") }
                guard Self.isValidBackendName(name) else {
                    throw b.error(name, "backend names use lowercase letters, digits and '-' (1-32 characters, starting with a letter)")
                }
                if name.contains(server.toolSeparator) { throw b.error(name, "must not contain the tool separator '\(server.toolSeparator)'") }
                if backends.contains(where: { $0.name == name }) { throw b.error(name, "backend '\(name)' is defined twice") }
                let kind = try section.string("kind")
                backends.append((name, kind, section))
            }
            try b.finish()
        }
        try root.finish()
    }

    static func isValidBackendName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 32, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    static func readServer(_ s: ConfigNode) throws(ConfigError) -> ServerSettings {
        var out = ServerSettings()
        out.name = try s.string("name", default: out.name)
        out.instructions = try s.optionalString("instructions")
        out.toolSeparator = try s.string("tool_separator", default: out.toolSeparator)
        guard !out.toolSeparator.isEmpty, out.toolSeparator.count <= 4,
            out.toolSeparator.allSatisfy({ $0 == "_" || $0 == "-" })
        else { throw s.error("tool_separator", "must be 1-4 characters of '_' or '-' (tool names allow only [a-zA-Z0-9_-])") }
        out.pageSize = try s.int("page_size", default: out.pageSize, range: 1...1000)
        out.defaultTimeoutMilliseconds = try s.int("default_timeout_ms", default: out.defaultTimeoutMilliseconds, range: 100...600_000)
        let level = try s.string("log_level", default: "info")
        guard let l = Logger.Level(rawValue: level) else {
            throw s.error("log_level", "must be one of trace, debug, info, notice, warning, error, critical")
        }
        out.logLevel = l
        if let h = try s.section("http") {
            var http = HTTPSettings()
            http.host = try h.string("host", default: http.host)
            http.port = try h.int("port", default: http.port, range: 0...65535)
            http.path = try h.string("path", default: http.path)
            guard http.path.hasPrefix("/") else { throw h.error("path", "must start with '/'") }
            http.maxBodyBytes = try h.int("max_body_bytes", default: http.maxBodyBytes, range: 1024...(16 << 20))
            if h.has("allowed_origins") { http.allowedOrigins = try h.stringList("allowed_origins") }
            http.idleTimeoutSeconds = try h.int("idle_timeout_s", default: http.idleTimeoutSeconds, range: 1...3600)
            http.sessionIdleTimeoutSeconds = try h.int("session_idle_timeout_s", default: http.sessionIdleTimeoutSeconds, range: 10...86_400)
            http.maxSessions = try h.int("max_sessions", default: http.maxSessions, range: 1...1_000_000)
            http.maxSessionsPerPrincipal = try h.int("max_sessions_per_principal", default: http.maxSessionsPerPrincipal, range: 1...1_000_000)
            if let p = try h.section("principal") {
                http.principal = try readPrincipal(p)
                http.principalConfigured = true
            }
            if let a = try h.section("auth") { http.auth = try readAuth(a) }
            if http.auth != nil && http.principalConfigured {
                throw h.error("principal", "a fixed principal and auth exclude each other: with auth, identity comes from the token or key")
            }
            try h.finish()
            do { try http.checkExposure() } catch { throw h.error("host", error.reason) }
            out.http = http
        }
        if let l = try s.section("limits") { out.limits = try readLimits(l) }
        if let m = try s.section("metrics") { out.metrics = try readMetrics(m, httpPort: out.http.port) }
        if let a = try s.section("audit") {
            guard let path = try a.optionalPath("path") else { throw a.error("path", "is required (the append-only audit file)") }
            out.audit = AuditSettings(path: path, hashKey: try a.secret("hash_key", required: false))
            try a.finish()
        }
        if let t = try s.section("tracing") { out.tracing = try readTracing(t) }
        if let st = try s.section("stdio") {
            if let p = try st.section("principal") {
                out.stdioPrincipal = try readPrincipal(p)
                out.stdioPrincipalConfigured = true
            }
            try st.finish()
        }
        if let r = try s.section("reload") {
            out.reload.watch = try r.bool("watch", default: out.reload.watch)
            out.reload.intervalMilliseconds = try r.int("interval_ms", default: out.reload.intervalMilliseconds, range: 100...3_600_000)
            try r.finish()
        }
        if let r = try s.section("request_state") { out.requestState = try readRequestState(r) }
        if let r = try s.section("shared_state") {
            out.sharedState = try readSharedState(r)
            // Session ids and cursors are sealed by one replica and opened by another: all must hold one key.
            guard out.requestState.key != nil else {
                throw s.error(
                    "request_state",
                    "key is required with shared_state: every replica seals and opens session ids, cursors and confirmation states with it (the same secret on every replica; generate one with `openssl rand -base64 48`)")
            }
        }
        try readTenants(s, into: &out)
        try s.finish()
        return out
    }

    /// Reads `{id, tenant, roles, attributes}`.
    public static func readPrincipal(_ p: ConfigNode) throws(ConfigError) -> Principal {
        let id = try p.string("id")
        let tenant = try p.string("tenant")
        guard !tenant.isEmpty, tenant.count <= 64 else { throw p.error("tenant", "must be 1-64 characters") }
        let roles = Set(try p.stringList("roles"))
        var attributes: [String: String] = [:]
        if let a = try p.section("attributes") {
            for k in a.keys { attributes[k] = try a.string(k) }
            try a.finish()
        }
        try p.finish()
        return Principal(id: id, tenant: tenant, roles: roles, attributes: attributes)
    }
}
