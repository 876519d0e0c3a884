// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// One GCRA bucket per key (principal, tenant, tool …), bounded to `maxKeys` buckets. A pure value.
public struct KeyedRateLimitState: Sendable {
    /// The limit every key gets.
    public let limit: RateLimit
    /// The most buckets held at once (at least one).
    public let maxKeys: Int
    private var buckets: [String: GCRA] = [:]
    private let fresh: GCRA

    /// No buckets yet: a key's bucket is created, full, on its first call.
    public init(limit: RateLimit, maxKeys: Int = 100_000) {
        self.limit = limit
        self.maxKeys = max(1, maxKeys)
        fresh = GCRA(limit: limit)
    }

    /// Buckets currently held.
    public var keyCount: Int { buckets.count }

    /// Takes one token from `key`'s bucket, making room for a new key first if needed.
    public mutating func acquire(_ key: String, now: ContinuousClock.Instant) -> RateDecision {
        if buckets[key] == nil && buckets.count >= maxKeys { makeRoom(now: now) }
        var bucket = buckets[key] ?? fresh
        let decision = bucket.acquire(now: now)
        buckets[key] = bucket
        return decision
    }

    /// Drops every full bucket (forgetting them changes no decision). If that frees less than a tenth of the room,
    /// also drops the buckets closest to full until it does: they lose at most a little debt, and the sweep then
    /// runs once per tenth of `maxKeys` new keys rather than once per key, so a flood of distinct keys costs
    /// amortised O(log n) per call instead of O(n).
    mutating func makeRoom(now: ContinuousClock.Instant) {
        buckets = buckets.filter { !$0.value.isFull(at: now) }
        let target = maxKeys - max(1, maxKeys / 10)
        guard buckets.count > target else { return }
        let closestToFull = buckets.sorted { ($0.value.theoreticalArrival ?? now) < ($1.value.theoreticalArrival ?? now) }
        for (key, _) in closestToFull.prefix(buckets.count - target) { buckets[key] = nil }
    }
}

/// A rate limiter with one bucket per key, safe to share across requests.
public final class KeyedRateLimiter: Sendable {
    private let state: Mutex<KeyedRateLimitState>
    /// The limit every key gets.
    public let limit: RateLimit

    /// `maxKeys` bounds memory whatever the keys (see `KeyedRateLimitState.makeRoom`).
    public init(limit: RateLimit, maxKeys: Int = 100_000) {
        self.limit = limit
        state = Mutex(KeyedRateLimitState(limit: limit, maxKeys: maxKeys))
    }

    /// Takes one token for `key`, or says how long until one is available.
    public func acquire(_ key: String, now: ContinuousClock.Instant = .now) -> RateDecision {
        state.withLock { $0.acquire(key, now: now) }
    }

    /// Buckets currently held (for metrics and tests).
    public var keyCount: Int { state.withLock { $0.keyCount } }
}
