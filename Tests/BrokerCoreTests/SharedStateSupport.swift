// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Synchronization

/// An honest in-memory ``SharedStateStore``: what the Redis store does, in one process, for replicas under test.
///
/// Rate limits are one ``GCRA`` per key, the same math as the broker's local limiter and the Redis script, on the
/// store's own clock (a manual one: tests advance it, nothing sleeps). Claims and values expire on that clock.
/// Pub/sub delivers in process to every subscriber of the channel. `down()` makes it unreachable the way a lost
/// Redis is (``isAvailable`` false, every operation throws); `flaky()` keeps ``isAvailable`` true but makes every
/// operation throw, like a store that times out before it notices. Every operation attempted is counted.
final class MemorySharedStore: SharedStateStore {
    enum Health { case up, down, flaky }

    private struct State {
        var now: ContinuousClock.Instant
        var health = Health.up
        var buckets: [String: GCRA] = [:]
        var values: [String: (value: String, expires: ContinuousClock.Instant)] = [:]
        var subscribers: [String: [@Sendable (String) -> Void]] = [:]
        var attempts = 0
        var keysSeen: [String] = []
    }

    private let state: Mutex<State>

    init(now: ContinuousClock.Instant = .now) { state = Mutex(State(now: now)) }

    /// Moves the store's clock forward.
    func advance(_ d: Duration) { state.withLock { $0.now += d } }
    func down() { state.withLock { $0.health = .down } }
    func flaky() { state.withLock { $0.health = .flaky } }
    func up() { state.withLock { $0.health = .up } }
    /// Operations attempted, answered or not.
    var attempts: Int { state.withLock { $0.attempts } }
    /// Every key an operation named, in order.
    var keysSeen: [String] { state.withLock { $0.keysSeen } }

    /// Counts the attempt; throws unless the store is up.
    private func begin(_ key: String) throws {
        let health = state.withLock { s in
            s.attempts += 1
            s.keysSeen.append(key)
            return s.health
        }
        guard health == .up else { throw SharedStateUnavailable("memory store is \(health)") }
    }

    func acquire(_ key: String, limit: RateLimit) async throws -> RateDecision {
        try begin(key)
        return state.withLock { s in
            // A changed limit starts a fresh bucket (no test changes one mid-way).
            var bucket = s.buckets[key].flatMap { $0.limit == limit ? $0 : nil } ?? GCRA(limit: limit)
            let decision = bucket.acquire(now: s.now)
            s.buckets[key] = bucket
            return decision
        }
    }

    func claim(_ key: String, value: String, ttl: Duration) async throws -> Bool {
        try begin(key)
        return state.withLock { s in
            if let held = s.values[key], held.expires > s.now { return false }
            s.values[key] = (value, s.now + ttl)
            return true
        }
    }

    func set(_ key: String, value: String, ttl: Duration) async throws {
        try begin(key)
        state.withLock { s in s.values[key] = (value, s.now + ttl) }
    }

    func get(_ key: String) async throws -> String? {
        try begin(key)
        return state.withLock { s in s.values[key].flatMap { $0.expires > s.now ? $0.value : nil } }
    }

    func touch(_ key: String, ttl: Duration) async throws -> Bool {
        try begin(key)
        return state.withLock { s in
            guard let held = s.values[key], held.expires > s.now else { return false }
            s.values[key] = (held.value, s.now + ttl)
            return true
        }
    }

    func delete(_ key: String) async throws -> Bool {
        try begin(key)
        return state.withLock { s in
            guard let held = s.values.removeValue(forKey: key) else { return false }
            return held.expires > s.now
        }
    }

    func publish(_ channel: String, _ message: String) async throws {
        try begin(channel)
        // Handlers run outside the lock: one may publish in turn.
        let handlers = state.withLock { $0.subscribers[channel] ?? [] }
        for handler in handlers { handler(message) }
    }

    func subscribe(_ channel: String, _ handler: @escaping @Sendable (String) -> Void) {
        state.withLock { $0.subscribers[channel, default: []].append(handler) }
    }

    var isAvailable: Bool { state.withLock { $0.health != .down } }

    func shutdown() { down() }
}

/// A store that is never reachable: every operation throws and ``isAvailable`` is false. Counts what it was asked.
final class DownSharedStore: SharedStateStore {
    let attempts = Atomic<Int>(0)

    private func fail() throws -> Never {
        attempts.wrappingAdd(1, ordering: .relaxed)
        throw SharedStateUnavailable("connection refused")
    }

    func acquire(_ key: String, limit: RateLimit) async throws -> RateDecision { try fail() }
    func claim(_ key: String, value: String, ttl: Duration) async throws -> Bool { try fail() }
    func set(_ key: String, value: String, ttl: Duration) async throws { try fail() }
    func get(_ key: String) async throws -> String? { try fail() }
    func touch(_ key: String, ttl: Duration) async throws -> Bool { try fail() }
    func delete(_ key: String) async throws -> Bool { try fail() }
    func publish(_ channel: String, _ message: String) async throws { try fail() }
    func subscribe(_ channel: String, _ handler: @escaping @Sendable (String) -> Void) {}
    var isAvailable: Bool { false }
    func shutdown() {}
}
