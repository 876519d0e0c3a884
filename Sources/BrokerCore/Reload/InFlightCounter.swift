// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// Counts the requests running on one generation, so the backends a reload removed are released only once the
/// calls that started on them have finished.
final class InFlightCounter: Sendable {
    private struct State {
        var count = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.count } }

    func enter() { state.withLock { $0.count += 1 } }

    func leave() {
        let ready: [CheckedContinuation<Void, Never>] = state.withLock { s in
            s.count -= 1
            guard s.count <= 0 else { return [] }
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for w in ready { w.resume() }
    }

    /// Returns when no request is in flight, or after `limit` (the longest deadline a call can have), whichever
    /// comes first. Returns whether it drained.
    func drain(limit: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.idle(); return true }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            // The idle waiter cannot be cancelled; release it so the group can finish.
            if !first { self.releaseWaiters() }
            return first
        }
    }

    private func idle() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now: Bool = state.withLock { s in
                if s.count <= 0 { return true }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    private func releaseWaiters() {
        let all = state.withLock { s in
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for w in all { w.resume() }
    }
}

/// One request's hold on the generation it started on. ``end()`` is idempotent, so a transport can call it from
/// both a `defer` and a streaming task without double counting.
public final class GenerationLease: Sendable {
    /// The generation every step of this request uses.
    public let generation: BrokerGeneration
    private let ended = Atomic<Bool>(false)

    init(_ generation: BrokerGeneration) {
        self.generation = generation
        generation.inFlight.enter()
    }

    /// The server of the lease's generation.
    public var server: MCPServer { generation.broker.server }

    /// Releases the hold.
    public func end() {
        if !ended.exchange(true, ordering: .acquiringAndReleasing) { generation.inFlight.leave() }
    }

    deinit { end() }
}
