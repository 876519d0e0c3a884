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

/// State every replica of the broker shares (Redis, or any Redis-protocol service, in production).
///
/// Keys and channels are logical names (`rl:tenant:acme`); the implementation namespaces them with the configured
/// prefix. Every operation completes, or throws ``SharedStateUnavailable`` within the store's timeout: a replica
/// never waits on an unreachable store for longer than that. Implementations run their I/O off Swift's cooperative
/// pool.
public protocol SharedStateStore: Sendable {
    /// Takes one token from the GCRA bucket `key` with `limit`, atomically for all replicas, on the store's clock
    /// (replica clocks may disagree). One round trip.
    func acquire(_ key: String, limit: RateLimit) async throws -> RateDecision
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
