// SPDX-License-Identifier: Apache-2.0

import BrokerCore

/// Whose SQL failed: it decides what a failure may say and whether it counts against the backend's health.
enum QueryOrigin: Sendable, Equatable {
    /// The caller's own analyst SQL: its mistakes are its own, and PostgreSQL's primary message helps it fix them.
    case analyst
    /// An ops-declared named query (by name): a class-42 failure means the declaration is wrong.
    case named(String)
    /// The broker's own statements (schema discovery, health checks): any failure is the backend's.
    case broker
}

/// Maps driver failures and SQLSTATE classes to business-meaningful errors.
///
/// Server text reaches a client only as the sanitized primary message of an error the caller's own statement
/// caused (classes 22, 42 and 54); everything else goes to `detail` (debug logs). Failures the caller caused —
/// its SQL, its arguments, its own statement's timeout — are marked ``BrokerError/callerFault()`` so that one
/// tenant's mistakes never open the breaker for the others.
enum PostgresErrors {
    /// Longest primary message shown to a client, in characters.
    static let maxPrimaryCharacters = 300

    static func map(_ error: any Error, backend: String, timeout: Duration, origin: QueryOrigin = .broker) -> BrokerError {
        if let b = error as? BrokerError { return b }
        guard let pg = error as? PGError else {
            if error is CancellationError { return .cancelled }
            return BrokerError(.backendError, "The warehouse call failed unexpectedly.", backend: backend, detail: String(describing: type(of: error)))
        }
        let detail = "\(pg.description) \(pg.serverMessage ?? "")"
        let seconds = timeout.seconds
        let limit = seconds.rounded() == seconds ? "\(Int(seconds)) s" : "\(seconds) s"
        switch pg.kind {
        case .timeout:
            let e = BrokerError(.timeout, "The query took longer than \(limit); narrow the date range or add filters.", retriable: true, backend: backend, detail: detail)
            // Our statement_timeout ended the caller's own statement: its size is the caller's doing. A connect
            // or pool timeout is the backend's.
            return pg.isStatementTimeout && origin != .broker ? e.callerFault() : e
        case .cancelled:
            return .cancelled
        case .authenticationFailed, .credentialUnavailable:
            return BrokerError(
                .backendCredentialsRejected, "The warehouse rejected the broker's credentials; an administrator must check backends.\(backend).tenants.",
                backend: backend, detail: detail)
        case .connectFailed, .connectionLost, .poolUnavailable:
            return BrokerError(.backendUnavailable, "The warehouse is not reachable right now; try again shortly.", retriable: true, backend: backend, detail: detail)
        case .poolExhausted:
            return BrokerError(.backendUnavailable, "The warehouse is busy (all connections in use); try again shortly.", retriable: true, backend: backend, detail: detail)
        case .queryFailed:
            let state = pg.sqlState ?? ""
            if origin != .broker, let fault = callerFault(state, pg: pg, origin: origin, backend: backend, detail: detail) {
                return fault.callerFault()
            }
            return mapSQLState(state, serverMessage: pg.serverMessage, backend: backend, limit: limit, detail: detail)
        }
    }

    /// The error for a failure the caller's statement caused (classes 22, 42, 54 and 25006), or nil for the rest.
    static func callerFault(_ state: String, pg: PGError, origin: QueryOrigin, backend: String, detail: String) -> BrokerError? {
        let primary = pg.primaryMessage.map(sanitize).flatMap { $0.isEmpty ? nil : $0 }
        let said = primary.map { "\($0) (SQLSTATE \(state))" } ?? "SQLSTATE \(state)"
        switch (state.prefix(2), origin) {
        case ("42", .named(let query)):
            // Ops wrote this SQL: the caller can do nothing about it, and it says nothing about the database.
            return BrokerError(
                .backendError,
                "The named query \(query) is misconfigured (SQLSTATE \(state)); an administrator must fix backends.\(backend).queries.\(query).",
                backend: backend, detail: detail)
        case ("42", _):
            let code: BrokerError.Code = state == "42501" ? .forbidden : .invalidArguments
            let next =
                ["42P01", "42703", "42501"].contains(state)
                ? "Fix the SQL and call again; \(backend)__describe lists the tables and columns you can query."
                : "Fix the SQL and call again."
            return BrokerError(code, "The query failed: \(said). \(next)", backend: backend, detail: detail)
        case ("22", .named):
            return BrokerError(.invalidArguments, "A value is malformed or out of range: \(said). Check the arguments and call again.", backend: backend, detail: detail)
        case ("22", _):
            let next = state == "22012" ? "Guard the divisor with NULLIF(x, 0) and call again." : "Fix the SQL and call again."
            return BrokerError(.invalidArguments, "The query failed: \(said). \(next)", backend: backend, detail: detail)
        case ("54", _):
            return BrokerError(.invalidArguments, "The query exceeds a database limit: \(said). Simplify it and call again.", backend: backend, detail: detail)
        default:
            if state == "25006" { return BrokerError(.forbidden, "The warehouse is read-only for analysts.", backend: backend, detail: detail) }
            return nil
        }
    }

    static func mapSQLState(_ state: String, serverMessage: String?, backend: String, limit: String, detail: String) -> BrokerError {
        let invalid = { (m: String) in BrokerError(.invalidArguments, m, backend: backend, detail: detail) }
        switch state {
        case "57014":
            return BrokerError(.timeout, "The query took longer than \(limit); narrow the date range or add filters.", retriable: true, backend: backend, detail: detail)
        case "42501": return BrokerError(.forbidden, "The warehouse does not allow your role to read that data.", backend: backend, detail: detail)
        case "25006": return BrokerError(.forbidden, "The warehouse is read-only for analysts.", backend: backend, detail: detail)
        case "42P01": return invalid("Unknown table or view\(quoted(serverMessage)); read broker://\(backend)/schema for the tables you can query.")
        case "42703": return invalid("Unknown column\(quoted(serverMessage)); use \(backend)__describe to see a table's columns.")
        case let s where s.hasPrefix("22"): return invalid("A value in the query is malformed or out of range (SQLSTATE \(s)).")
        case let s where s.hasPrefix("08") || s.hasPrefix("53") || s.hasPrefix("57P") || s == "40001" || s == "40P01":
            return BrokerError(.backendUnavailable, "The warehouse is temporarily unavailable; try again shortly.", retriable: true, backend: backend, detail: detail)
        case let s where s.hasPrefix("28"):
            return BrokerError(.backendCredentialsRejected, "The warehouse rejected the broker's credentials.", backend: backend, detail: detail)
        default:
            return BrokerError(.backendError, "The warehouse could not run the query (SQLSTATE \(state.isEmpty ? "unknown" : state)).", backend: backend, detail: detail)
        }
    }

    /// A server message made safe to show: control and bidirectional-formatting characters become spaces (a
    /// message must not rewrite the client's screen or reorder what follows it), runs of spaces collapse, and it
    /// is cut at ``maxPrimaryCharacters``.
    static func sanitize(_ message: String) -> String {
        var out = ""
        var lastWasSpace = true
        for scalar in message.unicodeScalars {
            let v = scalar.value
            let control = v < 0x20 || (0x7F...0x9F).contains(v) || (0x200B...0x200F).contains(v) || (0x202A...0x202E).contains(v)
                || (0x2066...0x2069).contains(v) || v == 0xFEFF
            if control || scalar == " " {
                if !lastWasSpace { out.unicodeScalars.append(" ") }
                lastWasSpace = true
            } else {
                out.unicodeScalars.append(scalar)
                lastWasSpace = false
            }
        }
        while out.hasSuffix(" ") { out.removeLast() }
        guard out.count > maxPrimaryCharacters else { return out }
        return String(out.prefix(maxPrimaryCharacters - 1)) + "…"
    }

    /// The first double-quoted name in a server message (`relation "x" does not exist` → ` "x"`): it names the
    /// caller's own identifier, not server internals.
    static func quoted(_ message: String?) -> String {
        guard let m = message, let start = m.firstIndex(of: "\"") else { return "" }
        let rest = m[m.index(after: start)...]
        guard let end = rest.firstIndex(of: "\""), rest.distance(from: rest.startIndex, to: end) <= 63 else { return "" }
        return " \"\(rest[..<end])\""
    }
}
