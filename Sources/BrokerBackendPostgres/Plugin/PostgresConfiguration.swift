// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// The settings of one `kind: postgres` backend.
///
/// ## Configuration keys
/// - `connection`: `host` (127.0.0.1), `port` (5432), `database` (required), `sslmode` (prefer), `connect_timeout_ms` (3000).
/// - `tenants`: per-tenant login role `{user, password: env:/file:}`; row-level security keys on the role, so
///   tenant isolation holds even for free-form SQL. A caller whose tenant has no entry is refused.
/// - `pool`: `min` (0), `max` (4), `acquire_timeout_ms` (2000), `max_lifetime_s` (1800), `idle_check_after_s` (30).
/// - `schema`: the curated schema exposed for discovery and analyst SQL (`public`).
/// - `limits`: defaults for every query: `max_rows` (1000), `max_bytes` (1048576), `timeout_ms` (10000).
/// - `analyst_sql`: `enabled` (false), `max_rows` (500), `timeout_ms` (5000), `max_sql_bytes` (8192),
///   `allow_functions` (extra function names for the parser gate).
/// - `queries`: `<name>: {description, sql, parameters: {<param>: {type, required, description, enum, minimum,
///   maximum, pattern, min_length, max_length} | {bind: tenant|principal|attribute.<name>}}, max_rows, timeout_ms,
///   write}`. A query runs in a READ ONLY transaction unless `write: true` (then READ WRITE, committed); both
///   carry `SET LOCAL statement_timeout` from the call's deadline.
///   `$n` is the n-th declared parameter; placeholders are checked against the declarations at load.
struct PostgresConfiguration: Sendable {
    struct Tenant: Sendable {
        let user: String
        let password: SecretReference
    }

    struct AnalystSQL: Sendable {
        let enabled: Bool
        let maxRows: Int
        let timeout: Duration
        let maxSQLBytes: Int
        let extraFunctions: [String]
    }

    var description: String?
    var host = "127.0.0.1"
    var port = 5432
    var database = ""
    var sslMode = "prefer"
    var connectTimeout: Duration = .milliseconds(3000)
    var tenants: [String: Tenant] = [:]
    var pool = PGPoolConfiguration()
    var schema = "public"
    var maxRows = 1000
    var maxBytes = 1 << 20
    var timeout: Duration = .milliseconds(10_000)
    var analyst = AnalystSQL(enabled: false, maxRows: 500, timeout: .milliseconds(5000), maxSQLBytes: 8192, extraFunctions: [])
    var queries: [NamedQuery] = []

    /// Reads and validates the section; throws ``ConfigError`` with the key path.
    init(_ s: ConfigNode) throws(ConfigError) {
        description = try s.optionalString("description")
        guard let c = try s.section("connection") else { throw s.error("connection", "is required (host, port, database)") }
        host = try c.string("host", default: host)
        port = try c.int("port", default: port, range: 1...65535)
        database = try c.string("database")
        sslMode = try c.string("sslmode", default: sslMode)
        guard ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].contains(sslMode) else {
            throw c.error("sslmode", "must be one of disable, allow, prefer, require, verify-ca, verify-full")
        }
        connectTimeout = .milliseconds(try c.int("connect_timeout_ms", default: 3000, range: 100...60_000))
        try c.finish()

        guard let t = try s.section("tenants"), !t.keys.isEmpty else {
            throw s.error("tenants", "is required: one login role per tenant ({user, password})")
        }
        for name in t.keys {
            guard let entry = try t.section(name) else { throw t.error(name, "expected {user, password}") }
            let user = try entry.string("user")
            guard let password = try entry.secret("password") else { throw entry.error("password", "is required") }
            try entry.finish()
            tenants[name] = Tenant(user: user, password: password)
        }
        try t.finish()

        if let p = try s.section("pool") {
            pool.minConnections = try p.int("min", default: 0, range: 0...64)
            pool.maxConnections = try p.int("max", default: 4, range: 1...256)
            guard pool.minConnections <= pool.maxConnections else { throw p.error("min", "must not exceed max") }
            pool.acquireTimeout = .milliseconds(try p.int("acquire_timeout_ms", default: 2000, range: 1...60_000))
            pool.maxLifetime = .seconds(try p.int("max_lifetime_s", default: 1800, range: 1...86_400))
            pool.idleCheckAfter = .seconds(try p.int("idle_check_after_s", default: 30, range: 0...86_400))
            try p.finish()
        }
        schema = try s.string("schema", default: schema)
        if let l = try s.section("limits") {
            maxRows = try l.int("max_rows", default: maxRows, range: 1...100_000)
            maxBytes = try l.int("max_bytes", default: maxBytes, range: 1024...(64 << 20))
            timeout = .milliseconds(try l.int("timeout_ms", default: 10_000, range: 10...600_000))
            try l.finish()
        }
        if let a = try s.section("analyst_sql") {
            analyst = AnalystSQL(
                enabled: try a.bool("enabled", default: true),
                maxRows: try a.int("max_rows", default: 500, range: 1...100_000),
                timeout: .milliseconds(try a.int("timeout_ms", default: 5000, range: 10...600_000)),
                maxSQLBytes: try a.int("max_sql_bytes", default: 8192, range: 64...(1 << 20)),
                extraFunctions: try a.stringList("allow_functions").map { $0.lowercased() })
            try a.finish()
        }
        if let q = try s.section("queries") {
            for name in q.keys {
                guard let section = try q.section(name) else { throw q.error(name, "expected {description, sql, parameters}") }
                queries.append(try Self.readQuery(name: name, section, defaults: self))
            }
            try q.finish()
        }
        try s.finish()
    }

    static func readQuery(name: String, _ q: ConfigNode, defaults: PostgresConfiguration) throws(ConfigError) -> NamedQuery {
        guard name.count <= 30, name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }) else {
            throw q.error(nil, "query names use lowercase letters, digits and '_' (at most 30)")
        }
        let description = try q.string("description")
        let sql = try q.string("sql")
        var parameters: [QueryParameter] = []
        if let ps = try q.section("parameters") {
            for pname in ps.keys {
                guard let p = try ps.section(pname) else { throw ps.error(pname, "expected a mapping with a type or a bind") }
                parameters.append(try readParameter(name: pname, p))
            }
            try ps.finish()
        }
        let used = NamedQuery.placeholders(in: sql)
        let declared = Set(1...max(1, parameters.count)).filter { $0 <= parameters.count }
        if used != declared {
            let missing = declared.subtracting(used).sorted().map { "$\($0)" }
            let unknown = used.subtracting(declared).sorted().map { "$\($0)" }
            var why: [String] = []
            if !unknown.isEmpty { why.append("uses \(unknown.joined(separator: ", ")) with only \(parameters.count) declared parameters") }
            if !missing.isEmpty { why.append("never uses \(missing.joined(separator: ", "))") }
            throw q.error("sql", "placeholders do not match the declared parameters: the SQL \(why.joined(separator: " and "))")
        }
        let maxRows = try q.int("max_rows", default: defaults.maxRows, range: 1...100_000)
        let timeout = Duration.milliseconds(try q.int("timeout_ms", default: Int(defaults.timeout.components.seconds * 1000), range: 10...600_000))
        let write = try q.bool("write", default: false)
        try q.finish()
        return NamedQuery(name: name, description: description, sql: sql, parameters: parameters, maxRows: maxRows, timeout: timeout, write: write)
    }

    static func readParameter(name: String, _ p: ConfigNode) throws(ConfigError) -> QueryParameter {
        if let bind = try p.optionalString("bind") {
            let source: ParameterSource
            switch bind {
            case "tenant": source = .tenant
            case "principal": source = .principal
            case let a where a.hasPrefix("attribute.") && a.count > 10: source = .attribute(String(a.dropFirst(10)))
            default: throw p.error("bind", "must be tenant, principal or attribute.<name>")
            }
            try p.finish()
            return QueryParameter(name: name, kind: .string, source: source, required: true, description: nil, constraints: [:])
        }
        let typeName = try p.string("type")
        guard let kind = QueryParameter.Kind(rawValue: typeName) else {
            throw p.error("type", "must be one of \(QueryParameter.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var constraints: [String: JSONValue] = [:]
        for (key, schemaKey) in [("enum", "enum"), ("minimum", "minimum"), ("maximum", "maximum"), ("pattern", "pattern"), ("min_length", "minLength"), ("max_length", "maxLength")] {
            if let v = try p.json(key) { constraints[schemaKey] = v }
        }
        let param = QueryParameter(
            name: name, kind: kind, source: .argument, required: try p.bool("required", default: false),
            description: try p.optionalString("description"), constraints: constraints)
        do {
            _ = try CompiledSchema(param.schema)
        } catch {
            throw p.error(nil, "constraints do not form a valid schema: \(error.description)")
        }
        try p.finish()
        return param
    }
}
