// SPDX-License-Identifier: Apache-2.0

/// One rate limit (tenant, tenant × tool, a backend's capacity share, a tenant's part of it) enforced across the
/// replicas of a deployment.
///
/// Without a store it is exactly the local ``KeyedRateLimiter`` a single broker always used. With a store, each
/// decision is one GCRA round trip on the store's bucket for the key, so all replicas draw from one bucket. While
/// the store is marked unavailable, or when a round trip fails, the decision is taken by a local limiter holding
/// this replica's part of the limit (rate and burst divided by the replica count), so the deployment as a whole stays
/// near the configured rate and the call is never failed or held up by the store beyond the store's own timeout.
/// Each such decision counts `mcp_broker_shared_state_fallbacks_total{operation="rate_limit"}`.
public final class SharedRateLimiter: Sendable {
    /// The limit the deployment enforces (what the configuration says).
    public let limit: RateLimit
    /// What the local limiter enforces: ``limit`` without a store, this replica's part of it with one.
    public let localLimit: RateLimit
    /// Names the limit in the store's keys (`rl:<scope>:…`).
    public let scope: String
    /// `rl:<scope>:` and the owner's part: what every store key of this limit starts with.
    private let keyPrefix: String
    private let local: KeyedRateLimiter
    private let store: (any SharedStateStore)?
    private let metrics: BrokerMetrics

    /// - Parameters:
    ///   - scope: a fixed word naming the limit (`tenant`, `tenant_tool`, `backend`, `backend_tenant`).
    ///   - owner: what the limit belongs to when the scope has one per owner (the backend of `backend_tenant`); part
    ///     of the store keys only, the local buckets are already this limiter's own.
    ///   - shared: the store and replica count; ``SharedState/local`` keeps everything in this process.
    ///   - maxKeys: bounds the local limiter's buckets (see ``KeyedRateLimitState``).
    public init(
        limit: RateLimit, scope: String, owner: String? = nil, shared: SharedState = .local, metrics: BrokerMetrics = .disabled, maxKeys: Int = 100_000
    ) {
        self.limit = limit
        self.scope = scope
        keyPrefix = SharedKey.make("rl", scope, owner)
        self.store = shared.store
        self.metrics = metrics
        localLimit = shared.store == nil ? limit : Self.part(of: limit, replicas: shared.replicas.resolved)
        local = KeyedRateLimiter(limit: localLimit, maxKeys: maxKeys)
    }

    /// Takes one token for `key` (qualified by `subkey`, e.g. tenant and tool), or says how long until one is free.
    ///
    /// `now` is the local limiter's clock; the store decides on its own clock (replica clocks may disagree).
    public func acquire(_ key: String, _ subkey: String? = nil, now: ContinuousClock.Instant = .now) async -> RateDecision {
        guard let refusal = await Self.acquire([Check(self, key, subkey)], now: now) else { return .allowed }
        return .limited(retryAfter: refusal.retryAfter)
    }

    /// One limit a call must pass: the limiter and the key (and subkey) it is charged to.
    public struct Check: Sendable {
        let limiter: SharedRateLimiter
        let key: String
        let subkey: String?
        /// `limiter`'s bucket for `key` (qualified by `subkey`).
        public init(_ limiter: SharedRateLimiter, _ key: String, _ subkey: String? = nil) {
            self.limiter = limiter
            self.key = key
            self.subkey = subkey
        }
    }

    /// Decides several limits of one call together: `nil` when all allow it, else the refusing check's index and wait.
    ///
    /// With an available store this is ONE round trip for all of them, all or none (a refused call charges no
    /// bucket). Without a store, each limiter decides locally in order and the first refusal ends it, exactly as a
    /// single broker always did. When the store fails or is marked unavailable, the local limiters (this replica's
    /// part of each limit) decide the same way and one fallback is counted.
    public static func acquire(_ checks: [Check], now: ContinuousClock.Instant = .now) async -> SharedRefusal? {
        guard let first = checks.first else { return nil }
        if let store = first.limiter.store {
            if store.isAvailable {
                do {
                    return try await store.acquire(checks.map { SharedBucket(key: $0.limiter.storeKey($0.key, $0.subkey), limit: $0.limiter.limit) })
                } catch {
                    // Unreachable or slow beyond its timeout: the store says so through isAvailable; decide locally.
                }
            }
            first.limiter.metrics.recordSharedStateFallback(.rateLimit)
        }
        for (index, check) in checks.enumerated() {
            if case .limited(let wait) = check.limiter.local.acquire(localKey(check.key, check.subkey), now: now) {
                return SharedRefusal(bucket: index, retryAfter: wait)
            }
        }
        return nil
    }

    /// Local buckets currently held (tests, metrics).
    public var localKeyCount: Int { local.keyCount }

    /// The store's key for `key` and `subkey`: unambiguous and bounded whatever the names hold (``SharedKey``).
    func storeKey(_ key: String, _ subkey: String?) -> String {
        var out = keyPrefix
        SharedKey.append(key, to: &out)
        if let subkey { SharedKey.append(subkey, to: &out) }
        return out
    }

    static func localKey(_ key: String, _ subkey: String?) -> String {
        guard let subkey else { return key }
        return key + "\u{1F}" + subkey
    }

    /// One replica's part of `limit` among `replicas`: rate / replicas, burst / replicas (at least 1).
    public static func part(of limit: RateLimit, replicas: Int) -> RateLimit {
        guard replicas > 1 else { return limit }
        return RateLimit(ratePerSecond: limit.ratePerSecond / Double(replicas), burst: max(1, limit.burst / replicas))
    }

    /// Whether this limiter can stand in for a new one of `limit` over `shared` on a reload (keeping its local
    /// buckets, so a reload never hands every key a fresh burst).
    func enforces(_ limit: RateLimit, over shared: SharedState) -> Bool {
        guard self.limit == limit, (store == nil) == (shared.store == nil) else { return false }
        return shared.store == nil || localLimit == Self.part(of: limit, replicas: shared.replicas.resolved)
    }
}
