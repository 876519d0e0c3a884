// SPDX-License-Identifier: Apache-2.0

import Logging
import Synchronization

/// `/readyz` answers from one shared, recent check instead of running live backend checks per request.
///
/// `/readyz` is unauthenticated (a kubelet has no credentials), so anyone who reaches the port can call it as often as
/// they like. Each check runs against the backends as a real call would — a PostgreSQL health check takes a pooled
/// connection of a tenant — so a probe flood must not become a flood of backend work: at most one check runs at a
/// time, every request during it waits for that one, and its answer is reused for `freshFor`.
final class ReadinessProbe: Sendable {
    private struct State {
        var last: (readiness: Readiness, at: ContinuousClock.Instant)?
        var running: Task<Readiness, Never>?
    }

    private let state = Mutex(State())
    private let freshFor: Duration
    private let logger: Logger

    init(freshFor: Duration = .seconds(2), logger: Logger) {
        self.freshFor = freshFor
        self.logger = logger
    }

    /// The latest readiness: cached while fresh, otherwise the result of the one check in flight (started if none is).
    func current(check: @escaping @Sendable () async -> Readiness) async -> Readiness {
        let now = ContinuousClock.now
        let cached: Readiness? = state.withLock { s in
            guard let last = s.last, now - last.at < freshFor else { return nil }
            return last.readiness
        }
        if let cached { return cached }
        let task: Task<Readiness, Never> = state.withLock { s in
            if let running = s.running { return running }
            let started = Task { await check() }
            s.running = started
            return started
        }
        let readiness = await task.value
        let previous: Readiness? = state.withLock { s in
            guard s.running == task else { return nil }
            let before = s.last?.readiness
            s.last = (readiness, ContinuousClock.now)
            s.running = nil
            return before ?? Readiness(backends: [])
        }
        if let previous { logChanges(from: previous, to: readiness) }
        return readiness
    }

    /// Why a backend is down goes to the operators' log (it may name a secret reference or a host), never to the
    /// unauthenticated `/readyz` body. Logged on each change, not on every check.
    private func logChanges(from old: Readiness, to new: Readiness) {
        let before = Dictionary(old.backends.map { ($0.name, $0.report) }, uniquingKeysWith: { a, _ in a })
        for (name, report) in new.backends where before[name]?.healthy != report.healthy || before[name]?.reason != report.reason {
            if report.healthy {
                logger.info("backend ready", metadata: ["backend": .string(name)])
            } else {
                logger.warning("backend not ready", metadata: ["backend": .string(name), "reason": .string(report.reason ?? "unknown")])
            }
        }
    }
}
