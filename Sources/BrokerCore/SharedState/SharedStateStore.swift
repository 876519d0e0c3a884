// SPDX-License-Identifier: Apache-2.0

/// A shared-state operation that did not happen: the store is unreachable, slow beyond its timeout, or answered
/// something unusable. Callers degrade to their local state (never fail the call because of it).
public struct SharedStateUnavailable: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for logs (never contains a credential).
    public let reason: String
    /// An error with `reason`.
    public init(_ reason: String) { self.reason = reason }
    /// The reason.
    public var description: String { reason }
}

/// One GCRA bucket of a shared limit: its store key and the limit it enforces.
public struct SharedBucket: Sendable, Equatable {
    /// The logical key (namespaced by the store).
    public let key: String
    /// The limit of this bucket.
    public let limit: RateLimit
    /// A bucket.
    public init(key: String, limit: RateLimit) {
        self.key = key
        self.limit = limit
    }
}

/// Which bucket of an ``SharedStateStore/acquire(_:)`` refused, and how long until it has a token.
public struct SharedRefusal: Sendable, Equatable {
    /// The index of the refusing bucket (the one with the longest wait when several refuse).
    public let bucket: Int
    /// Time until that bucket has a token.
    public let retryAfter: Duration
    /// A refusal.
    public init(bucket: Int, retryAfter: Duration) {
        self.bucket = bucket
        self.retryAfter = retryAfter
    }
}

/// State every replica of the broker shares (Redis, or any Redis-protocol service, in production).
///
/// Keys and channels are logical names (`rl:tenant:acme`); the implementation namespaces them with the configured
/// prefix. Every operation completes, or throws ``SharedStateUnavailable`` within the store's timeout: a replica
/// never waits on an unreachable store for longer than that. Implementations run their I/O off Swift's cooperative
/// pool.
public protocol SharedStateStore: Sendable {
    /// Takes one token from every GCRA bucket in `buckets`, all or none, atomically for all replicas, on the store's
    /// clock (replica clocks may disagree): `nil` when every bucket gave one, else the refusal (and no bucket was
    /// charged). One round trip whatever the number of buckets, so a call's tenant and tenant × tool limits cost one.
    func acquire(_ buckets: [SharedBucket]) async throws -> SharedRefusal?
    /// Sets `key` to `value` only if it does not exist, expiring after `ttl`; `true` when this call set it (the
    /// first claim of a single-use token), `false` when it already existed.
    func claim(_ key: String, value: String, ttl: Duration) async throws -> Bool
    /// Sets `key` to `value`, expiring after `ttl`.
    func set(_ key: String, value: String, ttl: Duration) async throws
    /// The value of `key`, or `nil` when it does not exist (or expired).
    func get(_ key: String) async throws -> String?
    /// Pushes `key`'s expiry to `ttl` from now; `false` when the key does not exist.
    func touch(_ key: String, ttl: Duration) async throws -> Bool
    /// Deletes `key`; `true` when it existed.
    func delete(_ key: String) async throws -> Bool
    /// Publishes `message` to every replica subscribed to `channel` (at most once; lost while the store is down).
    func publish(_ channel: String, _ message: String) async throws
    /// Calls `handler` with every message published on `channel` from now on, for the life of the store,
    /// subscribing again after reconnects. The handler must not block.
    func subscribe(_ channel: String, _ handler: @escaping @Sendable (String) -> Void)
    /// Whether the store answered its last exchange (readiness reports "degraded" while it is `false`).
    var isAvailable: Bool { get }
    /// Stops the store's I/O thread and fails what is pending (shutdown).
    func shutdown()
}

extension SharedStateStore {
    /// One bucket: ``acquire(_:)`` with a single key.
    public func acquire(_ key: String, limit: RateLimit) async throws -> RateDecision {
        guard let refusal = try await acquire([SharedBucket(key: key, limit: limit)]) else { return .allowed }
        return .limited(retryAfter: refusal.retryAfter)
    }
}
