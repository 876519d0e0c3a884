// SPDX-License-Identifier: Apache-2.0

import Logging
import Synchronization

/// The broker that is serving now: holds the current ``BrokerGeneration`` behind a lock and swaps it on reload.
///
/// Transports ask it for the generation per request (``begin()``) instead of capturing one server, so a reload
/// changes what new requests see while requests in flight finish on the generation they started on.
public final class LiveBroker: Sendable {
    private struct State {
        var generation: BrokerGeneration
        var status: ReloadStatus
    }

    private let state: Mutex<State>
    /// Where list changes are announced to the transports (and later to `subscriptions/listen`).
    public let hub = ListChangeHub()
    /// Drives each backend's `run()`.
    let runner: BackendRunner

    public init(_ generation: BrokerGeneration, logger: Logger) {
        state = Mutex(State(generation: generation, status: ReloadStatus(activeHash: generation.configHash)))
        runner = BackendRunner(logger: logger)
    }

    /// A first generation from a broker (tests, and transports built without a reload setup).
    public convenience init(broker: Broker, authenticator: (any Authenticator)? = nil, configHash: String = "", logger: Logger) {
        self.init(BrokerGeneration(number: 1, broker: broker, authenticator: authenticator, configHash: configHash), logger: logger)
    }

    /// A first generation around a fixed server (a transport built without a configuration path).
    public convenience init(server: MCPServer, logger: Logger) { self.init(broker: Broker(server: server, logger: logger), logger: logger) }

    /// The generation serving now.
    public var current: BrokerGeneration { state.withLock { $0.generation } }

    /// Holds the current generation for one request; call ``GenerationLease/end()`` when it has answered.
    public func begin() -> GenerationLease { GenerationLease(current) }

    /// Reload statistics (counts, active hash, the latest refusal).
    public var status: ReloadStatus { state.withLock { $0.status } }

    /// Makes `next` current and returns the one it replaced.
    func install(_ next: BrokerGeneration) -> BrokerGeneration {
        state.withLock { s in
            defer {
                s.generation = next
                s.status.successes += 1
                s.status.activeHash = next.configHash
                s.status.lastFailed = false
                s.status.lastError = nil
                s.status.failedHash = nil
            }
            return s.generation
        }
    }

    /// Records a refused reload; the current generation keeps serving.
    func noteFailure(_ error: String, hash: String) {
        state.withLock { s in
            s.status.failures += 1
            s.status.lastFailed = true
            s.status.lastError = error
            s.status.failedHash = hash
        }
    }

    /// Starts the `run()` of the current generation's backends (once, when the broker starts serving).
    public func startBackends() { runner.start(current.broker.catalog.backends, keeping: []) }

    /// Cancels every backend's `run()` (the broker is shutting down).
    public func stopBackends() { runner.stopAll() }

    /// Readiness of the current generation, with the reload state in the body.
    public func readiness() async -> Readiness {
        var readiness = await current.broker.readiness()
        readiness.config = status.json
        return readiness
    }
}
