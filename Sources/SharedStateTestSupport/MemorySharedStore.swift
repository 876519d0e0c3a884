// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Synchronization

/// An honest in-memory ``SharedStateStore``: what the Redis store does, in one process, for replicas under test.
///
/// Rate limits are one ``GCRA`` per key, the same math as the broker's local limiter and the Redis script, on the
/// store's own clock (a manual one: tests advance it, nothing sleeps). Claims and values expire on that clock.
/// Pub/sub delivers in process to every subscriber of the channel. `down()` makes it unreachable the way a lost
/// Redis is (``isAvailable`` false, every operation throws); `flaky()` keeps ``isAvailable`` true but makes every
/// operation throw, like a store that times out before it notices. Every operation attempted is counted, and every
/// message published while up is kept (``published``). Shared by the BrokerCore and BrokerHTTP tests (replicas in
/// one test process are brokers given the same instance).
public final class MemorySharedStore: SharedStateStore {
    /// How the store answers.
    public enum Health: Sendable { case up, down, flaky }

    private struct State {
        var now: ContinuousClock.Instant
        var health = Health.up
        var buckets: [String: GCRA] = [:]
        var values: [String: (value: String, expires: ContinuousClock.Instant)] = [:]
        var subscribers: [String: [@Sendable (String) -> Void]] = [:]
        var attempts = 0
        var keysSeen: [String] = []
        var published: [(channel: String, message: String)] = []
    }

    private let state: Mutex<State>

    /// A store whose clock starts at `now` and moves only by ``advance(_:)``.
    public init(now: ContinuousClock.Instant = .now) { state = Mutex(State(now: now)) }

    /// Moves the store's clock forward.
    public func advance(_ d: Duration) { state.withLock { $0.now += d } }
    /// Unreachable: ``isAvailable`` false, every operation throws.
    public func down() { state.withLock { $0.health = .down } }
    /// Claims to be available, but every operation throws.
    public func flaky() { state.withLock { $0.health = .flaky } }
    /// Answers again.
    public func up() { state.withLock { $0.health = .up } }
    /// Whether the store is unreachable (``down()`` / ``up()``).
    public var isDown: Bool {
        get { state.withLock { $0.health == .down } }
        set { newValue ? down() : up() }
    }
    /// Operations attempted, answered or not.
    public var attempts: Int { state.withLock { $0.attempts } }
    /// Every key an operation named, in order.
    public var keysSeen: [String] { state.withLock { $0.keysSeen } }
    /// Every message published while the store was up, in order.
    public var published: [(channel: String, message: String)] { state.withLock { $0.published } }
    /// The live value of `key`, whatever the store's health (assertions).
    public func peek(_ key: String) -> String? { state.withLock { s in s.values[key].flatMap { $0.expires > s.now ? $0.value : nil } } }

    /// Counts the attempt; throws unless the store is up.
    private func begin(_ key: String) throws { try begin([key]) }

    /// One attempt naming several keys (a batched acquire is one round trip).
    private func begin(_ keys: [String]) throws {
        let health = state.withLock { s in
            s.attempts += 1
            s.keysSeen += keys
            return s.health
        }
        guard health == .up else { throw SharedStateUnavailable("memory store is \(health)") }
    }

    public func acquire(_ buckets: [SharedBucket]) async throws -> SharedRefusal? {
        try begin(buckets.map(\.key))
        return state.withLock { s in
            // All or none, like the Redis script: decide every bucket on a copy, charge them only if all allow.
            var charged: [String: GCRA] = [:]
            var refusal: SharedRefusal?
            for (i, b) in buckets.enumerated() {
                // A changed limit starts a fresh bucket (no test changes one mid-way).
                var bucket = s.buckets[b.key].flatMap { $0.limit == b.limit ? $0 : nil } ?? GCRA(limit: b.limit)
                if case .limited(let wait) = bucket.acquire(now: s.now), wait > (refusal?.retryAfter ?? .zero) {
                    refusal = SharedRefusal(bucket: i, retryAfter: wait)
                }
                charged[b.key] = bucket
            }
            if refusal == nil { s.buckets.merge(charged) { $1 } }
            return refusal
        }
    }

    public func claim(_ key: String, value: String, ttl: Duration) async throws -> Bool {
        try begin(key)
        return state.withLock { s in
            if let held = s.values[key], held.expires > s.now { return false }
            s.values[key] = (value, s.now + ttl)
            return true
        }
    }

    public func set(_ key: String, value: String, ttl: Duration) async throws {
        try begin(key)
        state.withLock { s in s.values[key] = (value, s.now + ttl) }
    }

    public func get(_ key: String) async throws -> String? {
        try begin(key)
        return state.withLock { s in s.values[key].flatMap { $0.expires > s.now ? $0.value : nil } }
    }

    public func touch(_ key: String, ttl: Duration) async throws -> Bool {
        try begin(key)
        return state.withLock { s in
            guard let held = s.values[key], held.expires > s.now else { return false }
            s.values[key] = (held.value, s.now + ttl)
            return true
        }
    }

    public func delete(_ key: String) async throws -> Bool {
        try begin(key)
        return state.withLock { s in
            guard let held = s.values.removeValue(forKey: key) else { return false }
            return held.expires > s.now
        }
    }

    public func publish(_ channel: String, _ message: String) async throws {
        try begin(channel)
        // Handlers run outside the lock: one may publish in turn.
        let handlers = state.withLock { s in
            s.published.append((channel, message))
            return s.subscribers[channel] ?? []
        }
        for handler in handlers { handler(message) }
    }

    public func subscribe(_ channel: String, _ handler: @escaping @Sendable (String) -> Void) {
        state.withLock { $0.subscribers[channel, default: []].append(handler) }
    }

    public var isAvailable: Bool { state.withLock { $0.health != .down } }

    public func shutdown() { down() }
}

/// A store that is never reachable: every operation throws and ``isAvailable`` is false. Counts what it was asked.
public final class DownSharedStore: SharedStateStore {
    /// Operations attempted.
    public let attempts = Atomic<Int>(0)

    private func fail() throws -> Never {
        attempts.wrappingAdd(1, ordering: .relaxed)
        throw SharedStateUnavailable("connection refused")
    }

    /// A store that answers nothing.
    public init() {}

    public func acquire(_ buckets: [SharedBucket]) async throws -> SharedRefusal? { try fail() }
    public func claim(_ key: String, value: String, ttl: Duration) async throws -> Bool { try fail() }
    public func set(_ key: String, value: String, ttl: Duration) async throws { try fail() }
    public func get(_ key: String) async throws -> String? { try fail() }
    public func touch(_ key: String, ttl: Duration) async throws -> Bool { try fail() }
    public func delete(_ key: String) async throws -> Bool { try fail() }
    public func publish(_ channel: String, _ message: String) async throws { try fail() }
    public func subscribe(_ channel: String, _ handler: @escaping @Sendable (String) -> Void) {}
    public var isAvailable: Bool { false }
    public func shutdown() {}
}
