// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// The identities of requestStates already opened, each kept until its expiry: what makes a confirmation single-use.
///
/// A state past its expiry is refused as expired before this set is asked, so its identity can be forgotten then;
/// the set therefore holds at most the states opened within one TTL. It is bounded by ``capacity``: when full and
/// nothing has expired it refuses (the sealer reports `replayed`) rather than grow, failing closed under a flood.
///
/// The set lives in this process only. Any replica with the same key can *verify* a state, but this set enforces
/// single use per process: without a shared store (`server.shared_state`) a state replayed to another replica within
/// its TTL would open there once more. With one, the store's claim decides and this set is the fallback while the
/// store cannot be reached (``RequestStateSealer/open(_:for:store:metrics:)``).
/// ``shared`` is process-wide so a configuration reload between round 1 and round 2 does not forget what was used.
public final class UsedRequestStates: Sendable {
    /// The set every sealer uses unless given another.
    public static let shared = UsedRequestStates(capacity: 100_000)

    /// Most identities held at once.
    public let capacity: Int

    private struct State {
        var expiries: [RequestStateID: Int64] = [:]
        /// The earliest expiry in `expiries` (`Int64.max` when empty): before then, a prune would free nothing.
        var earliestExpiry = Int64.max
        var lastPrune = Int64.min
    }

    private let state = Mutex(State())

    /// A set holding at most `capacity` identities (a negative capacity counts as 0: every open is refused).
    public init(capacity: Int) { self.capacity = max(0, capacity) }

    /// How many identities are held now.
    public var count: Int { state.withLock { $0.expiries.count } }

    /// Records `id` as used until `expiresAt` (unix ms); `false` when it was already used or the set is full.
    func insert(_ id: RequestStateID, expiresAt: Int64, now: Int64) -> Bool {
        state.withLock { state in
            guard state.expiries[id] == nil else { return false }
            let full = state.expiries.count >= capacity
            // A full scan at most once a second while there is room, and whenever full (then it may free a slot).
            let pruneDue = now >= state.earliestExpiry && (full || now >= RequestStateSealer.plus(state.lastPrune, 1000))
            if pruneDue { Self.prune(&state, now: now) }
            guard state.expiries.count < capacity else { return false }
            state.expiries[id] = expiresAt
            state.earliestExpiry = min(state.earliestExpiry, expiresAt)
            return true
        }
    }

    private static func prune(_ state: inout State, now: Int64) {
        state.expiries = state.expiries.filter { $0.value > now }
        state.earliestExpiry = state.expiries.values.min() ?? Int64.max
        state.lastPrune = now
    }
}
