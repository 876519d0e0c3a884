// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// The closures that set state gauges at scrape time, by key. Run outside the lock, so a closure may take its own
/// locks (a pool's, a bulkhead's) without ordering against this one.
final class ScrapeSources: Sendable {
    private let sources = Mutex<[String: @Sendable () -> Bool]>([:])

    func set(_ key: String, _ refresh: @escaping @Sendable () -> Bool) { sources.withLock { $0[key] = refresh } }

    func remove(_ key: String) { _ = sources.withLock { $0.removeValue(forKey: key) } }

    /// Runs every closure; drops those that report their source gone.
    func run() {
        let all = sources.withLock { $0 }
        let gone = all.filter { !$0.value() }.map(\.key)
        guard !gone.isEmpty else { return }
        sources.withLock { s in
            for key in gone { s[key] = nil }
        }
    }
}
