// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore

/// The assembled broker: backends built from configuration, the catalogue, and the MCP server over them.
///
/// Built at startup (and by `mcp-broker validate`, which stops here) and again by each hot reload, as the next
/// generation (see ``LiveBroker``); transports only need ``server``.
public struct Broker: Sendable {
    public let server: MCPServer
    public var catalog: Catalog { server.catalog }
    private let probe: ReadinessProbe
    /// Each backend's configuration in canonical form (kind, file, settings subtree): equal means unchanged.
    let fingerprints: [String: String]
    /// Backends taken over from the previous generation (same instance, same guard) because their section is
    /// unchanged; empty for a first generation.
    public let reused: Set<String>

    /// Builds every configured backend through `registry`, then the catalogue.
    ///
    /// With `previous` (a reload), every backend is still built, so the new configuration passes exactly the
    /// checks of `mcp-broker validate`; then each backend whose section is unchanged is replaced by the previous
    /// generation's instance, which keeps its pools, and the server adopts its guard (breaker, bulkhead, cache).
    /// - Parameter metrics: the process's metrics (backends, audit and server report to it); the default records nothing.
    /// - Parameter shared: the state replicas share (kept across reloads); the default is this process alone.
    /// - Throws: ``ConfigError`` naming the file, key path and reason for the first problem found.
    public init(
        configuration: BrokerConfiguration, registry: BackendRegistry, metrics: BrokerMetrics = .disabled, logger: Logger, previous: Broker? = nil,
        shared: SharedState = .local
    ) throws {
        var backends: [any Backend] = []
        var resilience: [String: BackendResilience] = [:]
        var fingerprints: [String: String] = [:]
        var reused: Set<String> = []
        let previousBackends = Dictionary(uniqueKeysWithValues: (previous?.catalog.backends ?? []).map { ($0.name, $0) })
        for entry in configuration.backends {
            guard let kind = registry.kind(entry.kind) else {
                throw entry.settings.error("kind", "unknown backend kind '\(entry.kind)' (known: \(registry.names.joined(separator: ", ")))")
            }
            var log = logger
            log[metadataKey: "backend"] = .string(entry.name)
            // Read before the kind marks keys: the fingerprint is the whole section as written.
            let fingerprint = entry.kind + "\u{1E}" + entry.settings.file + "\u{1E}" + (try entry.settings.canonicalText())
            fingerprints[entry.name] = fingerprint
            entry.settings.markRead("kind")
            // Protection settings are the broker's, not the kind's: read here, before the kind checks its keys.
            resilience[entry.name] = try BrokerConfiguration.readResilience(entry.settings)
            let keep = previous?.fingerprints[entry.name] == fingerprint ? previousBackends[entry.name] : nil
            // A backend built only to be validated and dropped must not report: its pool gauges would replace the
            // live instance's.
            let reporter = keep == nil ? BackendMetrics(metrics: metrics, backend: entry.name) : .disabled
            let built = try kind.make(BackendSetup(name: entry.name, settings: entry.settings, logger: log, metrics: reporter))
            if let keep {
                backends.append(keep)
                reused.insert(entry.name)
            } else {
                backends.append(built)
            }
        }
        let file = configuration.backends.first?.settings.file ?? "configuration"
        let catalog = try Catalog(backends: backends, separator: configuration.server.toolSeparator, configFile: file)
        try configuration.server.policy.validate(against: catalog, file: file)
        let audit: AuditLog?
        if let settings = configuration.server.audit, let old = previous?.server.audit, old.settings.sameSink(as: settings) {
            // One writer per audit file: lines of the old and new generation go through the same queue, in order.
            audit = old
        } else {
            audit = try configuration.server.audit.map { settings throws(ConfigError) in try AuditLog(settings: settings, logger: logger, metrics: metrics) }
        }
        if !configuration.server.policyConfigured { logger.warning("no policy section: every tool, resource and prompt is denied") }
        if audit == nil { logger.warning("no server.audit path: calls are not audited") }
        // Read now, so a key that cannot be read or is too short refuses the configuration (and a reload picks up a
        // rotated key file).
        let keys = try configuration.server.requestState.keyMaterial()
        let sealer = RequestStateSealer(keys: keys, ttl: .seconds(configuration.server.requestState.ttlSeconds))
        if configuration.server.requestState.key == nil && previous == nil {
            logger.notice("no server.request_state.key: 2026-07-28 confirmation states are sealed with a per-process key, so only this replica can open them")
        }
        server = MCPServer(
            catalog: catalog, settings: configuration.server, audit: audit, resilience: resilience, metrics: metrics, logger: logger,
            previous: previous.map { GuardAdoption(server: $0.server, backends: reused) }, sealer: sealer, shared: shared,
            tokens: SealedTokens(material: keys), sessionIDs: configuration.server.sharedState == nil ? nil : SessionIDSealer(material: keys))
        probe = ReadinessProbe(logger: logger)
        self.fingerprints = fingerprints
        self.reused = reused
    }

    /// A broker around an already built server (a transport over a fixed server, tests): nothing to reuse.
    public init(server: MCPServer, logger: Logger) {
        self.server = server
        probe = ReadinessProbe(logger: logger)
        fingerprints = [:]
        reused = []
    }

    /// Readiness of every backend: one shared check at a time, reused for 2 s (see ``ReadinessProbe``), so probes
    /// cannot turn into backend load.
    public func readiness() async -> Readiness {
        var readiness = await probe.current { [self] in await checkBackends() }
        // Breaker and audit states are in memory and cheap: always the live ones, not the cached check's.
        readiness.breakers = server.breakerStates
        readiness.auditFailing = server.audit?.isFailing ?? false
        // The store's own flag, never a round trip: a probe flood must not become store load.
        if let store = server.shared.store { readiness.sharedState = store.isAvailable ? Readiness.sharedStateOK : Readiness.sharedStateDegraded }
        return readiness
    }

    /// Checks every backend concurrently with a 3 s bound each.
    func checkBackends() async -> Readiness {
        let principal = server.settings.stdioPrincipal
        let reports = await withTaskGroup(of: (Int, HealthReport).self) { group in
            for (i, backend) in catalog.backends.enumerated() {
                group.addTask {
                    let context = server.context(for: principal, backend: backend.name)
                    do {
                        let r = try await Deadline.run(until: .now + .seconds(3)) { await backend.checkHealth(context: context) }
                        return (i, r)
                    } catch {
                        return (i, HealthReport(healthy: false, reason: "health check did not answer within 3 s"))
                    }
                }
            }
            var out: [(Int, HealthReport)] = []
            for await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }.map(\.1)
        }
        return Readiness(backends: zip(catalog.backends.map(\.name), reports).map { ($0, $1) }, breakers: server.breakerStates)
    }
}

/// The result of a readiness check.
public struct Readiness: Sendable {
    /// Each backend's report, in configuration order.
    public let backends: [(name: String, report: HealthReport)]
    /// Each backend's circuit breaker state.
    public var breakers: [String: String] = [:]
    /// Whether the last audit line could not be written: calls still run, but the audit trail has a gap.
    public var auditFailing = false
    /// With a shared store: ``sharedStateOK`` or ``sharedStateDegraded`` (calls still run, on local limits and state);
    /// `nil` (absent from the body) for a broker on its own.
    public var sharedState: String?
    /// `sharedState` while the store answers.
    public static let sharedStateOK = "ok"
    /// `sharedState` while it does not: each replica enforces its part of the limits locally.
    public static let sharedStateDegraded = "degraded: shared state unavailable"
    /// The reload state (see ``ReloadStatus``); a refused reload shows here, the HTTP status stays that of the
    /// backends, since the previous configuration still serves.
    public var config: JSONValue?

    public init(backends: [(name: String, report: HealthReport)], breakers: [String: String] = [:]) {
        self.backends = backends
        self.breakers = breakers
    }

    /// `ready` (all up), `degraded` (some down: the others still serve; or the audit or the shared store failing) or
    /// `unavailable` (all down). Only `unavailable` makes `/readyz` answer 503: a degraded replica still serves.
    public var status: String {
        let up = backends.filter { $0.report.healthy && breakers[$0.name, default: "closed"] != "open" }.count
        let sharedDegraded = sharedState != nil && sharedState != Self.sharedStateOK
        if up == backends.count { return auditFailing || sharedDegraded ? "degraded" : "ready" }
        return up == 0 ? "unavailable" : "degraded"
    }

    /// The `/readyz` body. It is unauthenticated, so it says which backend is down but not why: a health reason may
    /// name a host, a role or a secret reference. The reason is in the broker's log (see ``ReadinessProbe``).
    public var json: JSONValue {
        var b: [String: JSONValue] = [:]
        for (name, r) in backends {
            let breaker = breakers[name, default: "closed"]
            var o: [String: JSONValue] = ["status": r.healthy && breaker != "open" ? "up" : "down", "breaker": .string(breaker)]
            if !r.healthy { o["reason"] = "health check failed; see the broker log" } else if breaker == "open" { o["reason"] = "circuit breaker open after repeated failures" }
            b[name] = .object(o)
        }
        var body: [String: JSONValue] = ["status": .string(status), "backends": .object(b)]
        if let config { body["config"] = config }
        if auditFailing { body["audit"] = "failing: audit lines are not being written; see the broker log" }
        if let sharedState { body["sharedState"] = .string(sharedState) }
        return .object(body)
    }
}
