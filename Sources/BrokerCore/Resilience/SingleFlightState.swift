// SPDX-License-Identifier: Apache-2.0

/// The bookkeeping of `SingleFlightCache`: entries with a TTL in insertion order, and the loads in flight with
/// the callers waiting on them. A pure value, generic in what a waiter is.
public struct SingleFlightState<Value, Waiter> {
    /// What a caller must do for a key.
    public enum Step {
        case hit(Value)
        /// Nobody is loading the key: this caller loads it, then calls `finish(flight:…)`.
        case lead(flight: UInt64)
        /// Another caller is loading it: wait on that flight.
        case join(flight: UInt64)
    }

    struct Entry {
        var value: Value
        var expires: ContinuousClock.Instant
        var seq: UInt64
    }

    struct Flight {
        var key: String
        var generation: UInt64
        var waiters: [(id: UInt64, waiter: Waiter)] = []
    }

    /// How long an entry lives from the start of the load that produced it.
    public let ttl: Duration
    /// The most entries kept (0: none, loads are only shared while in flight).
    public let maxEntries: Int
    /// Lookups answered from the cache.
    public private(set) var hits = 0
    /// Lookups that started or joined a load.
    public private(set) var misses = 0
    /// Loads started.
    public private(set) var loads = 0
    private var entries: [String: Entry] = [:]
    // Insertion order, oldest first; with one TTL for all that is also expiry order. Records of replaced or
    // removed entries stay until they reach the front (their seq no longer matches) — O(1) amortised, no search.
    private var order: [(key: String, seq: UInt64)] = []
    private var orderHead = 0
    private var flights: [UInt64: Flight] = [:]
    private var flightByKey: [String: UInt64] = [:]
    private var nextSeq: UInt64 = 0
    // Bumped by `removeAll`: a load that began before it must not store what may now be stale.
    private var generation: UInt64 = 0

    /// An empty cache.
    public init(ttl: Duration, maxEntries: Int) {
        self.ttl = ttl
        self.maxEntries = max(0, maxEntries)
    }

    /// Entries held (expired ones included until they are purged).
    public var count: Int { entries.count }

    /// Looks `key` up at `now`; on a miss either starts a flight or joins the one in progress.
    public mutating func begin(key: String, now: ContinuousClock.Instant) -> Step {
        purgeExpired(now: now)
        if let entry = entries[key] {
            if now < entry.expires {
                hits += 1
                return .hit(entry.value)
            }
            entries[key] = nil
        }
        misses += 1
        if let flight = flightByKey[key] { return .join(flight: flight) }
        nextSeq += 1
        flights[nextSeq] = Flight(key: key, generation: generation)
        flightByKey[key] = nextSeq
        loads += 1
        return .lead(flight: nextSeq)
    }

    /// Queues a waiter on a flight; `false` if the flight already finished (the caller should look up again).
    public mutating func addWaiter(flight: UInt64, id: UInt64, waiter: Waiter) -> Bool {
        guard flights[flight] != nil else { return false }
        flights[flight]?.waiters.append((id, waiter))
        return true
    }

    /// Takes back a waiter that gave up; `nil` if the flight already answered it.
    public mutating func removeWaiter(flight: UInt64, id: UInt64) -> Waiter? {
        guard let index = flights[flight]?.waiters.firstIndex(where: { $0.id == id }) else { return nil }
        return flights[flight]?.waiters.remove(at: index).waiter
    }

    /// Ends a flight, storing `value` (if any, and unless `removeAll` ran meanwhile) as loaded at `now`; returns
    /// the waiters to answer.
    public mutating func finish(flight: UInt64, storing value: Value?, now: ContinuousClock.Instant) -> [Waiter] {
        guard let done = flights.removeValue(forKey: flight) else { return [] }
        if flightByKey[done.key] == flight { flightByKey[done.key] = nil }
        if let value, done.generation == generation, maxEntries > 0 { store(done.key, value, now: now) }
        return done.waiters.map(\.waiter)
    }

    /// Forgets every entry; loads in flight still answer their waiters but store nothing, and new callers start
    /// fresh loads instead of joining them.
    public mutating func removeAll() {
        entries = [:]
        order = []
        orderHead = 0
        flightByKey = [:]
        generation += 1
    }

    private mutating func store(_ key: String, _ value: Value, now: ContinuousClock.Instant) {
        purgeExpired(now: now)
        // Expired entries went first (above); if still full, the oldest go.
        while entries[key] == nil && entries.count >= maxEntries, let oldest = popOldest() { entries[oldest] = nil }
        nextSeq += 1
        entries[key] = Entry(value: value, expires: now + ttl, seq: nextSeq)
        order.append((key, nextSeq))
    }

    private mutating func purgeExpired(now: ContinuousClock.Instant) {
        while orderHead < order.count {
            let (key, seq) = order[orderHead]
            if let entry = entries[key], entry.seq == seq {
                guard now >= entry.expires else { break }
                entries[key] = nil
            }
            orderHead += 1
        }
        compactOrder()
    }

    /// The key of the oldest live entry, removed from the order.
    private mutating func popOldest() -> String? {
        while orderHead < order.count {
            let (key, seq) = order[orderHead]
            orderHead += 1
            if entries[key]?.seq == seq { return key }
        }
        return nil
    }

    private mutating func compactOrder() {
        if orderHead > 32 && orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
    }
}

extension SingleFlightState: Sendable where Value: Sendable, Waiter: Sendable {}
extension SingleFlightState.Step: Sendable where Value: Sendable {}
extension SingleFlightState.Step: Equatable where Value: Equatable {}
extension SingleFlightState.Entry: Sendable where Value: Sendable {}
extension SingleFlightState.Flight: Sendable where Waiter: Sendable {}
