// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Synchronization

/// An in-process ``SharedStateStore`` for tests: several brokers in one test process given the same instance behave
/// like replicas sharing one Redis. Keys expire, GCRA buckets are real, and pub/sub delivers each message to every
/// subscriber of its channel (the publisher's own subscription included, as Redis does).
///
/// ``isDown`` makes every operation throw ``SharedStateUnavailable``, like an unreachable Redis; messages published
/// meanwhile are lost.
final class MemorySharedStateStore: SharedStateStore {
    private struct State {
        var values: [String: (value: String, expires: ContinuousClock.Instant)] = [:]
        var buckets: [String: GCRA] = [:]
        var subscribers: [String: [@Sendable (String) -> Void]] = [:]
        var down = false
        var published: [(channel: String, message: String)] = []
    }

    private let state = Mutex(State())

    /// Whether the store is unreachable.
    var isDown: Bool {
        get { state.withLock { $0.down } }
        set { state.withLock { $0.down = newValue } }
    }

    /// Every message published while the store was up, in order.
    var published: [(channel: String, message: String)] { state.withLock { $0.published } }

    /// The live value of `key`, bypassing the availability switch (test assertions).
    func peek(_ key: String) -> String? {
        state.withLock { s in s.values[key].flatMap { $0.expires > .now ? $0.value : nil } }
    }

    private func up() throws {
        if state.withLock({ $0.down }) { throw SharedStateUnavailable("store is down (test)") }
    }

    func acquire(_ key: String, limit: RateLimit) async throws -> RateDecision {
        try up()
        return state.withLock { s in
            var bucket = s.buckets[key] ?? GCRA(limit: limit)
            let decision = bucket.acquire(now: .now)
            s.buckets[key] = bucket
            return decision
        }
    }

    func claim(_ key: String, value: String, ttl: Duration) async throws -> Bool {
        try up()
        return state.withLock { s in
            if let existing = s.values[key], existing.expires > .now { return false }
            s.values[key] = (value, .now + ttl)
            return true
        }
    }

    func set(_ key: String, value: String, ttl: Duration) async throws {
        try up()
        state.withLock { $0.values[key] = (value, .now + ttl) }
    }

    func get(_ key: String) async throws -> String? {
        try up()
        return peek(key)
    }

    func touch(_ key: String, ttl: Duration) async throws -> Bool {
        try up()
        return state.withLock { s in
            guard let existing = s.values[key], existing.expires > .now else { return false }
            s.values[key] = (existing.value, .now + ttl)
            return true
        }
    }

    func delete(_ key: String) async throws -> Bool {
        try up()
        return state.withLock { s in
            guard let existing = s.values.removeValue(forKey: key) else { return false }
            return existing.expires > .now
        }
    }

    func publish(_ channel: String, _ message: String) async throws {
        try up()
        let handlers = state.withLock { s in
            s.published.append((channel, message))
            return s.subscribers[channel] ?? []
        }
        for handler in handlers { handler(message) }
    }

    func subscribe(_ channel: String, _ handler: @escaping @Sendable (String) -> Void) {
        state.withLock { $0.subscribers[channel, default: []].append(handler) }
    }

    var isAvailable: Bool { !isDown }

    func shutdown() {}
}
