// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Broker-wide protection (`server.limits`): what one tenant may ask of the broker, and when the broker sheds load.
public struct ServerLimits: Sendable {
    /// Tool calls per tenant.
    public var tenantRate: RateLimit?
    /// Tool calls per tenant and tool.
    public var tenantToolRate: RateLimit?
    /// HTTP requests per authenticated principal, refused with 429 before the body is read.
    public var httpRate: RateLimit?
    /// HTTP requests in flight across the broker; beyond it, 503 with `Retry-After` before the body is read.
    public var maxInFlight = 512
    /// Resident memory (MiB) above which new HTTP requests get 503; `nil` disables the check.
    public var memoryWatermarkMB: Int?
    /// Retries in flight may be at most this share of calls in flight (so retries never amplify an outage).
    public var retryBudgetRatio = 0.2
    /// Compress HTTP responses at least this large when the client accepts gzip; `nil` disables compression.
    public var gzipMinBytes: Int? = 4096

    public init() {}
}

/// How results of a backend's read-only tools are cached.
public struct CacheSettings: Sendable {
    /// Tools (names without the backend prefix) whose results may be served from the cache.
    public var tools: Set<String>
    public var ttl: Duration
    public var maxEntries: Int
    /// `true`: entries are shared by principals of a tenant with the same roles and attributes; `false`: per principal.
    public var shareWithinRole: Bool

    public init(tools: Set<String>, ttl: Duration, maxEntries: Int, shareWithinRole: Bool) {
        self.tools = tools
        self.ttl = ttl
        self.maxEntries = maxEntries
        self.shareWithinRole = shareWithinRole
    }
}

/// Per-backend protection (`backends.<name>.resilience`): the backend's declared capacity and our share of it,
/// a bulkhead, a circuit breaker, a per-backend deadline and an optional cache.
public struct BackendResilience: Sendable {
    /// Calls per second the backend can take, and the share of it the broker may use.
    public var capacity: RateLimit?
    public var share = 1.0
    /// Concurrent calls, and how many may wait for a slot before further calls fail fast.
    public var maxConcurrent = 32
    public var maxQueue = 64
    public var breaker = CircuitBreakerPolicy()
    /// Deadline for this backend's calls when shorter than the server default.
    public var timeout: Duration?
    public var cache: CacheSettings?
    /// The most of this backend's rate share, concurrency and queue that one tenant may take, so a tenant that
    /// floods it always leaves the rest to the others. 1 turns the per-tenant caps off (single-tenant deployments).
    public var tenantShare = 0.75

    public init() {}

    /// The rate the broker may send: capacity × share.
    public var effectiveRate: RateLimit? { capacity.map { Self.scaled($0, by: share) } }

    /// The rate one tenant may send: capacity × share × tenant share; `nil` when uncapped.
    public var tenantRate: RateLimit? {
        guard tenantShare < 1 else { return nil }
        return effectiveRate.map { Self.scaled($0, by: tenantShare) }
    }

    /// Permits one tenant may hold: at least one, and at most all.
    public var tenantMaxConcurrent: Int { Self.part(of: maxConcurrent, tenantShare, atLeast: 1) }
    /// Queue places one tenant may hold.
    public var tenantMaxQueue: Int { Self.part(of: maxQueue, tenantShare, atLeast: 0) }

    private static func part(of whole: Int, _ share: Double, atLeast floor: Int) -> Int {
        share >= 1 ? whole : min(whole, max(floor, Int((Double(whole) * share).rounded(.down))))  // trap-ok: shares are at most 1 (checked at load), whole is a config count
    }

    private static func scaled(_ rate: RateLimit, by share: Double) -> RateLimit {
        RateLimit(ratePerSecond: rate.ratePerSecond * share, burst: max(1, Int((Double(rate.burst) * share).rounded())))  // trap-ok: share ≤ 1 of an Int burst
    }
}

extension ConfigNode {
    /// A rate such as `10/s`, `600/m` or `10/s burst 20`.
    func rate(_ key: String) throws(ConfigError) -> RateLimit? {
        guard let text = try optionalString(key) else { return nil }
        guard let r = RateLimit.parse(text), r.ratePerSecond > 0, r.burst >= 1 else {
            throw error(key, "expected a rate such as 10/s, 600/m or \"10/s burst 20\"")
        }
        return r
    }
}

extension BrokerConfiguration {
    static func readLimits(_ l: ConfigNode) throws(ConfigError) -> ServerLimits {
        var out = ServerLimits()
        out.tenantRate = try l.rate("tenant_rate")
        out.tenantToolRate = try l.rate("tenant_tool_rate")
        out.httpRate = try l.rate("http_rate")
        out.maxInFlight = try l.int("max_in_flight", default: out.maxInFlight, range: 1...1_000_000)
        if l.has("memory_watermark_mb") { out.memoryWatermarkMB = try l.int("memory_watermark_mb", range: 16...1_048_576) }
        out.retryBudgetRatio = try l.double("retry_budget", default: out.retryBudgetRatio, range: 0...1)
        if l.has("gzip_min_bytes") {
            let n = try l.int("gzip_min_bytes", range: 0...(64 << 20))
            out.gzipMinBytes = n == 0 ? nil : n
        }
        try l.finish()
        return out
    }

    /// Reads `resilience` from a backend section (marking it read, so the kind's own `finish()` accepts it).
    public static func readResilience(_ backend: ConfigNode) throws(ConfigError) -> BackendResilience {
        var out = BackendResilience()
        guard let r = try backend.section("resilience") else { return out }
        out.capacity = try r.rate("capacity")
        out.share = try r.double("share", default: 1, range: 0.01...1)
        out.maxConcurrent = try r.int("max_concurrent", default: out.maxConcurrent, range: 1...10_000)
        out.maxQueue = try r.int("max_queue", default: out.maxQueue, range: 0...100_000)
        out.tenantShare = try r.double("tenant_share", default: out.tenantShare, range: 0.05...1)
        if r.has("timeout_ms") { out.timeout = .milliseconds(try r.int("timeout_ms", range: 10...600_000)) }
        if let b = try r.section("breaker") {
            out.breaker.consecutiveFailures = try b.int("failures", default: out.breaker.consecutiveFailures, range: 1...1000)
            out.breaker.failureRatio = try b.double("failure_ratio", default: out.breaker.failureRatio, range: 0.01...1)
            out.breaker.minimumCalls = try b.int("min_calls", default: out.breaker.minimumCalls, range: 1...100_000)
            out.breaker.window = .milliseconds(try b.int("window_ms", default: Int(out.breaker.window / .milliseconds(1)), range: 100...3_600_000))
            out.breaker.openBase = .milliseconds(try b.int("open_ms", default: Int(out.breaker.openBase / .milliseconds(1)), range: 10...3_600_000))
            out.breaker.openMax = .milliseconds(try b.int("open_max_ms", default: Int(out.breaker.openMax / .milliseconds(1)), range: 10...3_600_000))
            try b.finish()
        }
        if let c = try r.section("cache") {
            let tools = try c.stringList("tools")
            guard !tools.isEmpty else { throw c.error("tools", "name the read-only tools whose results may be cached") }
            out.cache = CacheSettings(
                tools: Set(tools), ttl: .milliseconds(try c.int("ttl_ms", default: 30_000, range: 10...86_400_000)),
                maxEntries: try c.int("max_entries", default: 1000, range: 1...1_000_000),
                shareWithinRole: try c.string("scope", default: "role") == "role")
            if let scope = try c.optionalString("scope"), !["role", "principal"].contains(scope) {
                throw c.error("scope", "must be role (shared by a tenant's principals with the same roles) or principal")
            }
            try c.finish()
        }
        try r.finish()
        return out
    }
}
