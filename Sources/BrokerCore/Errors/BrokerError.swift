// SPDX-License-Identifier: Apache-2.0

/// The one error model for everything a client may see.
///
/// `message` is business-meaningful and always safe to return to an MCP client or to log: no credentials, no raw
/// backend payloads. Internal detail goes only in `detail`, which is logged at debug level and never sent.
/// Backends map their native failures (HTTP statuses, SQLSTATEs, simulated-system codes) to a `BrokerError` at
/// their boundary; anything else that escapes a backend is reported as `internal` with only a correlation id.
public struct BrokerError: Error, Sendable, CustomStringConvertible {
    /// A stable, machine-readable error code (snake_case on the wire).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Arguments failed validation; the model should fix and retry.
        public static let invalidArguments = Code(rawValue: "invalid_arguments")
        /// The requested business object does not exist (in this tenant).
        public static let notFound = Code(rawValue: "not_found")
        /// The request conflicts with the object's state (e.g. approving a paid invoice).
        public static let conflict = Code(rawValue: "conflict")
        /// The principal may not do this.
        public static let forbidden = Code(rawValue: "forbidden")
        /// The backend refused the broker's own credentials (a configuration problem for ops).
        public static let backendCredentialsRejected = Code(rawValue: "backend_credentials_rejected")
        /// The backend is down or unreachable; retriable.
        public static let backendUnavailable = Code(rawValue: "backend_unavailable")
        /// The backend failed in a way we could not classify.
        public static let backendError = Code(rawValue: "backend_error")
        /// The call ran out of time.
        public static let timeout = Code(rawValue: "timeout")
        /// Too many calls; retry after the hint.
        public static let rateLimited = Code(rawValue: "rate_limited")
        /// The client cancelled the call.
        public static let cancelled = Code(rawValue: "cancelled")
        /// The user declined a confirmation: nothing was done.
        public static let declined = Code(rawValue: "declined")
        /// A broker bug; only the correlation id is reported.
        public static let `internal` = Code(rawValue: "internal")
    }

    public var code: Code
    /// Client-safe, business-meaningful text ("Purchase order 4711 not found").
    public var message: String
    /// Whether retrying the same call later may succeed.
    public var isRetriable: Bool
    /// The backend instance involved, when one was.
    public var backend: String?
    /// When to retry, for rate limits and overload.
    public var retryAfterSeconds: Double?
    /// Internal detail for debug logs only; never sent to a client.
    public var detail: String?
    /// The caller caused this failure (its own SQL was wrong, its own heavy query hit the statement timeout, it asked
    /// for something that does not exist), so it says nothing about the backend's health: breakers ignore it and one
    /// tenant's mistakes never pause another tenant's calls.
    public var isCallerFault: Bool = false

    public init(
        _ code: Code, _ message: String, retriable: Bool = false, backend: String? = nil,
        retryAfterSeconds: Double? = nil, detail: String? = nil
    ) {
        self.code = code
        self.message = message
        self.isRetriable = retriable
        self.backend = backend
        self.retryAfterSeconds = retryAfterSeconds
        self.detail = detail
    }

    /// The same error, marked as the caller's own fault (see ``isCallerFault``).
    public func callerFault() -> BrokerError {
        var copy = self
        copy.isCallerFault = true
        return copy
    }

    /// Safe: the code and the message, never `detail`.
    public var description: String { "\(code.rawValue): \(message)" }

    /// Arguments the model must correct.
    public static func invalidArguments(_ message: String) -> BrokerError { BrokerError(.invalidArguments, message) }
    /// A missing business object.
    public static func notFound(_ message: String) -> BrokerError { BrokerError(.notFound, message) }
    /// A state conflict.
    public static func conflict(_ message: String) -> BrokerError { BrokerError(.conflict, message) }
    /// Backend down; retriable.
    public static func unavailable(_ message: String, backend: String? = nil, detail: String? = nil) -> BrokerError {
        BrokerError(.backendUnavailable, message, retriable: true, backend: backend, detail: detail)
    }
    /// Deadline passed.
    public static func timeout(_ message: String) -> BrokerError { BrokerError(.timeout, message, retriable: true) }
    /// Client cancelled.
    public static let cancelled = BrokerError(.cancelled, "The call was cancelled.")
}
