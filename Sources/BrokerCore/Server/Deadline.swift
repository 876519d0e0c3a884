// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization

/// Runs work against an absolute deadline: past it the work is cancelled and a `timeout` error is thrown.
///
/// One watchdog thread holds every pending deadline in a heap and cancels the work whose deadline passes. An
/// earlier design raced each call against its own sleeping task; profiles showed those timers in the hot path, and
/// a cancelled sleep keeps its timer allocated until the deadline, so memory grew with the call rate × timeout.
public enum Deadline {
    /// Runs `work` in a task of its own, cancelled at `deadline` (or when the caller is cancelled).
    /// - Throws: `BrokerError.timeout` when the deadline passed; otherwise whatever `work` threw.
    public static func run<T: Sendable>(until deadline: ContinuousClock.Instant, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let handle = Task { try await work() }
        let token = DeadlineWatch.shared.register(deadline) { handle.cancel() }
        defer { DeadlineWatch.shared.unregister(token) }
        do {
            return try await withTaskCancellationHandler { try await handle.value } onCancel: { handle.cancel() }
        } catch {
            // Work cut short by the watchdog surfaces as a cancellation of some kind: report the timeout instead.
            if ContinuousClock.now >= deadline, !Task.isCancelled {
                throw BrokerError.timeout("The backend did not answer in time; try again, or narrow the request.")
            }
            throw error
        }
    }
}

/// The single watchdog behind ``Deadline``: a heap of deadlines and one thread that sleeps until the earliest.
final class DeadlineWatch: Sendable {
    static let shared = DeadlineWatch()

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let id: UInt64
    }

    private struct State {
        var heap: [Entry] = []
        var actions: [UInt64: @Sendable () -> Void] = [:]
        var nextID: UInt64 = 0
        /// Bumped when a new earliest deadline arrives, so the thread never sleeps past it (no lost wake-up).
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())
    private let wake = NSCondition()

    private init() {
        let thread = Thread { [self] in self.loop() }
        thread.name = "mcp-broker.deadlines"
        thread.start()
    }

    /// Registers `action` to run at `deadline`; returns the token for ``unregister(_:)``.
    func register(_ deadline: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) -> UInt64 {
        let (id, earliest) = state.withLock { s -> (UInt64, Bool) in
            s.nextID += 1
            s.actions[s.nextID] = action
            Self.push(Entry(deadline: deadline, id: s.nextID), into: &s.heap)
            let earliest = s.heap.first?.id == s.nextID
            if earliest { s.generation &+= 1 }
            return (s.nextID, earliest)
        }
        // Only a new earliest deadline changes how long the thread must sleep.
        if earliest {
            wake.lock()
            wake.signal()
            wake.unlock()
        }
        return id
    }

    /// Forgets a deadline (its work finished). Its heap entry is dropped lazily when it comes up, or when dead
    /// entries outnumber live ones: most work finishes long before its deadline, so without that the heap would
    /// hold rate × timeout entries (8,000 calls/s × 30 s is 240,000).
    func unregister(_ id: UInt64) {
        state.withLock { s in
            s.actions.removeValue(forKey: id)
            if s.heap.count > 1024, s.heap.count > 2 * s.actions.count { Self.compact(&s) }
        }
    }

    /// Entries in the heap, live or not yet dropped (for tests).
    var heapCount: Int { state.withLock { $0.heap.count } }
    /// Deadlines registered and not yet unregistered or fired (for tests).
    var liveCount: Int { state.withLock { $0.actions.count } }

    /// Keeps only live entries and restores the heap order (Floyd's bottom-up build, O(n)).
    private static func compact(_ s: inout State) {
        s.heap.removeAll { s.actions[$0.id] == nil }
        var i = s.heap.count / 2
        while i > 0 {
            i -= 1
            siftDown(&s.heap, from: i)
        }
    }

    private func loop() {
        while true {
            var due: [@Sendable () -> Void] = []
            let (next, generation) = state.withLock { s -> (ContinuousClock.Instant?, UInt64) in
                let now = ContinuousClock.now
                while let top = s.heap.first, top.deadline <= now || s.actions[top.id] == nil {
                    Self.pop(&s.heap)
                    if let action = s.actions.removeValue(forKey: top.id) { due.append(action) }
                }
                return (s.heap.first?.deadline, s.generation)
            }
            for action in due { action() }
            wake.lock()
            // A deadline registered since the heap was read may be earlier than `next`: look again at once.
            if state.withLock({ $0.generation }) != generation {
                wake.unlock()
                continue
            }
            if let next {
                let wait = next - ContinuousClock.now
                if wait > .zero {
                    _ = wake.wait(until: Date(timeIntervalSinceNow: wait.seconds))
                }
            } else {
                _ = wake.wait(until: Date(timeIntervalSinceNow: 60))
            }
            wake.unlock()
        }
    }

    private static func push(_ e: Entry, into heap: inout [Entry]) {
        heap.append(e)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].deadline < heap[parent].deadline else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private static func pop(_ heap: inout [Entry]) {
        guard !heap.isEmpty else { return }
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        siftDown(&heap, from: 0)
    }

    private static func siftDown(_ heap: inout [Entry], from start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count, heap[l].deadline < heap[m].deadline { m = l }
            if r < heap.count, heap[r].deadline < heap[m].deadline { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }
}
