// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import ServiceLifecycle
import UnixSignals

/// Triggers reloads: SIGHUP, and a poll of the configuration, API key and JWKS files by content hash every
/// `server.reload.interval_ms` (when `server.reload.watch` is on). Also drives the backends' `run()` for the
/// broker's lifetime.
struct ReloadService: Service {
    let live: LiveBroker
    let reloader: Reloader
    let path: String
    let logger: Logger

    func run() async throws {
        live.startBackends()
        defer { live.stopBackends() }
        let signals = await UnixSignalsSequence(trapping: .sighup)
        // Both loops end at graceful shutdown (ServiceGroup) or when the caller cancels (stdio).
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await _ in signals {
                        logger.info("SIGHUP: reloading the configuration")
                        await reloader.reload(trigger: .signal)
                    }
                }
                group.addTask { await watch() }
            }
        }
    }

    /// Polls the watched files. A change is tried once: a refused file is not retried until it changes again, and
    /// a change a SIGHUP already applied is not applied twice.
    func watch() async {
        var lastSeen = live.current.watched
        while !Task.isCancelled {
            let settings = live.current.settings.reload
            do { try await Task.sleep(for: .milliseconds(settings.intervalMilliseconds)) } catch { return }
            guard settings.watch else { continue }
            let generation = live.current
            let now = WatchedHashes.read(path: path, settings: generation.settings)
            defer { lastSeen = now }
            guard let trigger = now.trigger(comparedTo: lastSeen) else { continue }
            // Already serving these files (a SIGHUP applied them), unless a refused attempt is on record: then the
            // files went back to the serving ones, and reloading them clears the failure.
            if now == generation.watched && !live.status.lastFailed { continue }
            logger.info("configuration files changed: reloading", metadata: ["trigger": .string(trigger.rawValue)])
            await reloader.reload(trigger: trigger)
        }
    }
}
