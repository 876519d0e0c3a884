// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore
import Tracing

/// Who is calling: a verified principal and the tenant it belongs to.
///
/// Comes only from the transport's authentication (the stdio principal in config today; tokens and API keys
/// later), never from tool arguments or client-supplied metadata.
public struct Principal: Sendable, Hashable, CustomStringConvertible {
    /// Stable principal id (user or service account).
    public var id: String
    /// Tenant whose data partition this principal may see.
    public var tenant: String
    /// Role names, for policy.
    public var roles: Set<String>
    /// Attributes such as department or region, for policy.
    public var attributes: [String: String]

    public init(id: String, tenant: String, roles: Set<String> = [], attributes: [String: String] = [:]) {
        self.id = id
        self.tenant = tenant
        self.roles = roles
        self.attributes = attributes
    }

    public var description: String { "\(id)@\(tenant)" }

    /// The identity a session, cursor or cache entry is bound to: tenant and principal id together, since the
    /// same id may exist in two tenants.
    public var bindingKey: String { "\(tenant)\u{1F}\(id)" }
}

/// Sends notifications back to the client for the call in progress (progress and log messages).
///
/// Progress values are forced to increase strictly (MCP requires it) and are dropped when the client sent no
/// `progressToken`; log messages are dropped below the level the session asked for.
public struct ClientNotifier: Sendable {
    let progressSink: (@Sendable (Double, Double?, String?) async -> Void)?
    let logSink: (@Sendable (LogLevel, String, JSONValue) async -> Void)?

    /// - Parameters:
    ///   - progress: delivers `notifications/progress` for this request's token, or `nil` when none was sent.
    ///   - log: delivers `notifications/message` if the level passes the session's filter.
    public init(
        progress: (@Sendable (Double, Double?, String?) async -> Void)?,
        log: (@Sendable (LogLevel, String, JSONValue) async -> Void)?
    ) {
        self.progressSink = progress
        self.logSink = log
    }

    /// A notifier that drops everything (CLI calls, health checks).
    public static let none = ClientNotifier(progress: nil, log: nil)

    /// Whether the client asked for progress on this call.
    public var wantsProgress: Bool { progressSink != nil }

    /// Reports progress; `total` may be `nil` when unknown.
    public func progress(_ value: Double, total: Double? = nil, message: String? = nil) async {
        await progressSink?(value, total, message)
    }

    /// Sends a log message to the client (`logger` names the backend).
    public func log(_ level: LogLevel, logger: String, _ data: JSONValue) async {
        await logSink?(level, logger, data)
    }
}

/// Everything a backend gets with one call: identity, correlation, deadline, logging and client notifications.
public struct CallContext: Sendable {
    /// The verified caller.
    public var principal: Principal
    /// Correlation id; on every log line and every error message for this call.
    public var correlationID: String
    /// Absolute deadline; work past it is cancelled.
    public var deadline: ContinuousClock.Instant
    /// A logger carrying `correlation_id`, `principal`, `tenant`, `trace_id`/`span_id` (under a span) and (once
    /// routed) `backend` metadata.
    public var logger: Logger
    /// Progress and log notifications to the client.
    public var notifier: ClientNotifier
    /// The broker-wide retry budget: a backend retries only with a permit from it (``withRetryPermit()``).
    public var retryBudget: RetryBudget?
    /// Seals and opens the tokens a backend hands out and gets back (paging cursors): bound to the principal and a
    /// purpose, expiring, and opened by every replica holding the configured key. The server sets its
    /// generation's; the default is this process's own key.
    public var tokens: SealedTokens = .process

    public init(principal: Principal, correlationID: String, deadline: ContinuousClock.Instant, logger: Logger, notifier: ClientNotifier = .none) {
        self.principal = principal
        self.correlationID = correlationID
        self.deadline = deadline
        self.notifier = notifier
        var logger = logger
        logger[metadataKey: "correlation_id"] = .string(correlationID)
        logger[metadataKey: "principal"] = .string(principal.id)
        logger[metadataKey: "tenant"] = .string(principal.tenant)
        // The span id tells apart the requests of one trace (a client may send one traceparent for several calls).
        if let ids = TracePropagation.traceParent(in: ServiceContext.current) {
            logger[metadataKey: "trace_id"] = .string(ids.traceID.hex)
            logger[metadataKey: "span_id"] = .string(ids.spanID.hex)
        }
        self.logger = logger
    }

    /// Time left before the deadline (zero when past).
    public var remaining: Duration {
        let r = deadline - ContinuousClock.now
        return r > .zero ? r : .zero
    }

    /// Throws `timeout` when the deadline has passed and `cancelled` when the client cancelled.
    public func checkAlive() throws(BrokerError) {
        if Task.isCancelled { throw BrokerError.cancelled }
        if ContinuousClock.now >= deadline { throw BrokerError.timeout("The call ran out of time before it could finish.") }
    }

    /// Asks the retry budget for one retry; `false` means give up now instead of adding load to a struggling
    /// backend. Call ``retryFinished()`` once the retried attempt has completed.
    public func mayRetry() -> Bool { retryBudget?.tryAcquireRetry() ?? true }

    /// Returns the permit taken by ``mayRetry()``.
    public func retryFinished() { retryBudget?.retryEnded() }

    /// Sleeps for simulated or backoff delays, honouring the deadline and cancellation.
    public func sleep(for duration: Duration) async throws(BrokerError) {
        if duration > remaining {
            try? await Task.sleep(for: remaining)
            throw BrokerError.timeout("The call ran out of time before it could finish.")
        }
        do { try await Task.sleep(for: duration) } catch { throw BrokerError.cancelled }
    }
}

extension CallContext {
    /// The correlation id of the work in progress: the trace id of the current span (32 lowercase hex characters),
    /// so one id finds the call's log lines, audit line, error result, backend requests and exported spans. Outside
    /// any span (no tracer bootstrapped: tools, tests) a fresh random id of the same shape.
    public static func newCorrelationID() -> String {
        (TracePropagation.traceParent(in: ServiceContext.current)?.traceID ?? TraceIDSource.traceID()).hex
    }
}
