// SPDX-License-Identifier: Apache-2.0

import Logging

/// Applies a configuration change to a running broker, or refuses it.
///
/// One attempt: read and check the configuration exactly as `mcp-broker validate` does, build the next generation
/// (unchanged backends keep their instance and guard), build its authenticator, swap, tell the sessions whose lists
/// changed, and release the replaced backends once their calls have finished. A refused configuration leaves the
/// current generation serving; either way the attempt is logged, audited and counted. Attempts run one at a time.
public actor Reloader {
    /// Builds the authenticator of a generation; `nil` for none (stdio, or no `server.http.auth`).
    public typealias AuthenticatorFactory = @Sendable (ServerSettings) async throws -> (any Authenticator)?
    /// Told of every attempt, after it is decided: where the metrics record reloads (see ``ReloadOutcome``).
    public typealias OutcomeObserver = @Sendable (ReloadOutcome) -> Void

    let live: LiveBroker
    let path: String
    let registry: BackendRegistry
    let logger: Logger
    let adjust: @Sendable (inout ServerSettings) -> Void
    let makeAuthenticator: AuthenticatorFactory
    let onOutcome: OutcomeObserver
    /// The latest attempt: the next one waits for it, so attempts never interleave across their awaits.
    private var tail: Task<ReloadOutcome, Never>?

    /// - Parameters:
    ///   - path: the configuration file or directory the broker started from.
    ///   - adjust: the command-line overrides the broker started with (applied again to each new configuration).
    ///   - onOutcome: called after each attempt (metrics).
    public init(
        live: LiveBroker, path: String, registry: BackendRegistry, logger: Logger, adjust: @escaping @Sendable (inout ServerSettings) -> Void = { _ in },
        makeAuthenticator: @escaping AuthenticatorFactory = { _ in nil }, onOutcome: @escaping OutcomeObserver = { _ in }
    ) {
        self.live = live
        self.path = path
        self.registry = registry
        self.logger = logger
        self.adjust = adjust
        self.makeAuthenticator = makeAuthenticator
        self.onOutcome = onOutcome
    }

    /// Runs one attempt, after any attempt still running. Returns the outcome (also given to the observer).
    @discardableResult
    public func reload(trigger: ReloadTrigger) async -> ReloadOutcome {
        let previous = tail
        let attempt = Task { _ = await previous?.value; return await self.attempt(trigger: trigger) }
        tail = attempt
        return await attempt.value
    }

    private func attempt(trigger: ReloadTrigger) async -> ReloadOutcome {
        let old = live.current
        let watched = WatchedHashes.read(path: path, settings: old.settings)
        let outcome: ReloadOutcome
        do {
            let next = try await build(after: old, watched: watched)
            let replaced = live.install(next)
            outcome = ReloadOutcome(trigger: trigger, applied: true, oldHash: old.configHash, newHash: next.configHash, error: nil, generation: next.number)
            finish(replacing: replaced, with: next)
            logger.notice(
                "configuration reloaded",
                metadata: [
                    "trigger": .string(trigger.rawValue), "config_sha256": .string(next.configHash), "generation": "\(next.number)",
                    "backends_kept": .string(next.broker.reused.sorted().joined(separator: ",")),
                ])
            next.server.audit?.record(outcome.auditRecord)
        } catch {
            // ConfigError's description is `file:line: key: reason`; other errors (an unreadable JWKS) say what failed.
            let text = (error as? ConfigError)?.description ?? "\(error)"
            live.noteFailure(text, hash: watched.config)
            outcome = ReloadOutcome(trigger: trigger, applied: false, oldHash: old.configHash, newHash: watched.config, error: text, generation: old.number)
            logger.error(
                "configuration reload refused; the previous configuration keeps serving",
                metadata: ["trigger": .string(trigger.rawValue), "error": .string(text), "config_sha256": .string(old.configHash)])
            old.server.audit?.record(outcome.auditRecord)
        }
        // Metrics: the integrator's one call site is the observer (BrokerMetrics.recordReload(success:) and
        // setActiveConfig(hash:) from `outcome`).
        onOutcome(outcome)
        return outcome
    }

    /// Reads, checks and builds the next generation; throws the first problem.
    func build(after old: BrokerGeneration, watched: WatchedHashes) async throws -> BrokerGeneration {
        var kept: [String] = []
        let serving = old.settings
        let configuration = try BrokerConfiguration.loadChecked(path: path) { settings in
            adjust(&settings)
            kept = RestartOnlySettings.keep(serving: serving, into: &settings)
        }
        if !kept.isEmpty {
            logger.warning(
                "configuration changes that need a restart were not applied", metadata: ["keys": .string(kept.joined(separator: ", "))])
        }
        // Metrics are the process's: the new generation reports to the same registry as the old one.
        let broker = try Broker(configuration: configuration, registry: registry, metrics: old.server.metrics, logger: logger, previous: old.broker,
            shared: old.server.shared)
        let authenticator = try await makeAuthenticator(configuration.server)
        // The hashes are re-read for the settings just loaded: the key files may be other files now.
        let now = WatchedHashes.read(path: path, settings: configuration.server)
        return BrokerGeneration(
            number: old.number + 1, broker: broker, authenticator: authenticator, configHash: watched.config,
            watched: WatchedHashes(config: watched.config, apiKeys: now.apiKeys, jwks: now.jwks, requestStateKey: now.requestStateKey))
    }

    /// Starts the new backends' work, tells sessions whose lists changed, and releases what the old generation
    /// alone used once its requests have finished (at most its longest call deadline, plus a margin).
    func finish(replacing old: BrokerGeneration, with next: BrokerGeneration) {
        let retired = live.runner.start(next.broker.catalog.backends, keeping: next.broker.reused)
        live.hub.publish(ListChange(old: old.server, new: next.server))
        let limit = Duration.milliseconds(old.settings.defaultTimeoutMilliseconds) + .seconds(5)
        let logger = self.logger
        Task {
            let drained = await old.inFlight.drain(limit: limit)
            for task in retired { task.cancel() }
            if !drained { logger.warning("requests of the replaced configuration still running at their deadline; releasing its backends") }
        }
    }
}

/// The result of one reload attempt.
public struct ReloadOutcome: Sendable {
    public let trigger: ReloadTrigger
    public let applied: Bool
    public let oldHash: String
    /// Hash of the configuration the attempt read.
    public let newHash: String
    /// The refusal, as `file:line: key: reason`.
    public let error: String?
    /// The generation serving after the attempt.
    public let generation: UInt64

    var auditRecord: ReloadAuditRecord {
        ReloadAuditRecord(trigger: trigger.rawValue, result: applied ? "applied" : "refused", oldHash: oldHash, newHash: newHash, error: error)
    }
}
