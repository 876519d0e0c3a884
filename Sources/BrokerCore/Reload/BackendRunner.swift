// SPDX-License-Identifier: Apache-2.0

import Logging
import Synchronization

/// Runs each backend's long-running work (``Backend/run()``) in its own task, and ends it when the backend leaves
/// service: at shutdown, or after a reload replaced or removed it and its last call finished.
final class BackendRunner: Sendable {
    private let tasks = Mutex<[String: Task<Void, Never>]>([:])
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    /// Starts `run()` for every backend not in `keeping` (those keep the task they have) and returns the tasks of
    /// the backends they replace, and of names no longer present, for the caller to cancel once drained.
    @discardableResult
    func start(_ backends: [any Backend], keeping: Set<String>) -> [Task<Void, Never>] {
        let logger = self.logger
        var fresh: [String: Task<Void, Never>] = [:]
        for backend in backends where !keeping.contains(backend.name) {
            fresh[backend.name] = Task {
                do { try await backend.run() } catch is CancellationError {} catch {
                    logger.error("backend background work ended with an error", metadata: ["backend": .string(backend.name), "error": "\(error)"])
                }
            }
        }
        let names = Set(backends.map(\.name))
        return tasks.withLock { t in
            var retired: [Task<Void, Never>] = []
            for (name, task) in t where !names.contains(name) || fresh[name] != nil {
                retired.append(task)
                t[name] = nil
            }
            t.merge(fresh) { _, new in new }
            return retired
        }
    }

    /// Cancels every task.
    func stopAll() {
        let all = tasks.withLock { t in
            defer { t.removeAll() }
            return Array(t.values)
        }
        for task in all { task.cancel() }
    }
}
