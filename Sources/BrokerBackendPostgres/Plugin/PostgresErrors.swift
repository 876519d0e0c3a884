// SPDX-License-Identifier: Apache-2.0

import BrokerCore

/// Maps driver failures and SQLSTATE classes to business-meaningful errors. Server text never reaches a client;
/// it goes to `detail` (debug logs).
enum PostgresErrors {
    static func map(_ error: any Error, backend: String, timeout: Duration) -> BrokerError {
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
            return BrokerError(.timeout, "The query took longer than \(limit); narrow the date range or add filters.", retriable: true, backend: backend, detail: detail)
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
            return mapSQLState(pg.sqlState ?? "", serverMessage: pg.serverMessage, backend: backend, limit: limit, detail: detail)
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
        case "42883": return invalid("A function or operator does not exist for those argument types; add explicit casts.")
        case "42601": return invalid("The SQL has a syntax error; check it and try again.")
        case "42803": return invalid("A column must appear in GROUP BY or be used in an aggregate function.")
        case "22012": return invalid("The query divides by zero; guard the divisor with NULLIF(x, 0).")
        case let s where s.hasPrefix("22"): return invalid("A value in the query is malformed or out of range (SQLSTATE \(s)).")
        case let s where s.hasPrefix("08") || s.hasPrefix("53") || s.hasPrefix("57P") || s == "40001" || s == "40P01":
            return BrokerError(.backendUnavailable, "The warehouse is temporarily unavailable; try again shortly.", retriable: true, backend: backend, detail: detail)
        case let s where s.hasPrefix("28"):
            return BrokerError(.backendCredentialsRejected, "The warehouse rejected the broker's credentials.", backend: backend, detail: detail)
        default:
            return BrokerError(.backendError, "The warehouse could not run the query (SQLSTATE \(state.isEmpty ? "unknown" : state)).", backend: backend, detail: detail)
        }
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
