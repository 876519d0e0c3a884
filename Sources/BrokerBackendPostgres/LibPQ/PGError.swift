// SPDX-License-Identifier: Apache-2.0

/// Failures; `serverMessage` is internal (debug logs only); `description` is safe (kind + SQLSTATE).
struct PGError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, coarse enough for callers to map to client-facing messages.
    enum Kind: Sendable, Equatable {
        /// The connection could not be established (refused, unreachable, bad database, …).
        case connectFailed
        /// The server refused the credentials (SQLSTATE 28P01 / 28000).
        case authenticationFailed
        /// An established connection broke (server gone, admin shutdown, 08xxx).
        case connectionLost
        /// The server rejected or failed the statement; see `sqlState`.
        case queryFailed
        /// A deadline or statement timeout expired.
        case timeout
        /// The calling task was cancelled.
        case cancelled
        /// No pooled connection became free in time.
        case poolExhausted
        /// The pool is shut down or backing off after failed connects.
        case poolUnavailable
        /// The password reference could not be resolved.
        case credentialUnavailable
    }

    /// The failure class.
    var kind: Kind
    /// The five-character SQLSTATE, when the server (or libpq) supplied one.
    var sqlState: String?
    /// Raw server or libpq text: internal, for debug logs only, never for a client.
    var serverMessage: String?
    /// The server's primary message alone (`PG_DIAG_MESSAGE_PRIMARY`), without detail, hint, context or internal
    /// query. Only ever shown (sanitized) for errors the caller's own SQL caused; see ``PostgresErrors``.
    var primaryMessage: String?
    /// The server's error reply was huge (it can quote a value of any size). libpq grew the connection's input buffer
    /// to hold it and never shrinks it, so the pool closes such a connection instead of keeping that memory.
    var oversizedReply = false

    /// Creates an error.
    init(_ kind: Kind, sqlState: String? = nil, serverMessage: String? = nil, primaryMessage: String? = nil) {
        self.kind = kind
        self.sqlState = sqlState
        self.serverMessage = serverMessage
        self.primaryMessage = primaryMessage
    }

    /// A 57014 from the statement timeout we set on the caller's own statement (not a connect or pool timeout).
    var isStatementTimeout: Bool { kind == .timeout && sqlState == "57014" }

    /// Safe to log or show: the kind and SQLSTATE only.
    var description: String {
        if let sqlState { return "PGError(\(kind), SQLSTATE \(sqlState))" }
        return "PGError(\(kind))"
    }

    /// Maps a statement failure to a kind.
    /// - Parameters:
    ///   - sqlState: the result's SQLSTATE, if any.
    ///   - connectionBad: whether `PQstatus` reports `CONNECTION_BAD` after the failure.
    ///   - cancelledByUs: whether our own cancel request (task cancellation) was sent.
    static func classifyStatementFailure(sqlState: String?, connectionBad: Bool, cancelledByUs: Bool) -> Kind {
        if connectionBad { return .connectionLost }
        guard let sqlState else { return .queryFailed }
        // 08xxx: connection exceptions; 57P01..05: admin/crash shutdown, cannot connect now, database dropped,
        // idle-session timeout; 25P03: idle-in-transaction timeout. The server closes the session after each of these.
        if sqlState.hasPrefix("08") || sqlState.hasPrefix("57P") || sqlState == "25P03" { return .connectionLost }
        if sqlState == "57014" {
            // query_canceled: ours when the task was cancelled; otherwise a statement_timeout (ours, set via SET LOCAL).
            return cancelledByUs ? .cancelled : .timeout
        }
        if sqlState == "28P01" || sqlState == "28000" { return .authenticationFailed }
        return .queryFailed
    }

    /// Maps a failed handshake to a kind, using the SQLSTATE libpq puts in a verbose error message.
    static func classifyConnectFailure(message: String) -> PGError {
        let state = sqlState(inVerboseMessage: message)
        let kind: Kind
        switch state {
        case "28P01", "28000": kind = .authenticationFailed
        default: kind = .connectFailed
        }
        return PGError(kind, sqlState: state, serverMessage: message)
    }

    /// Finds the SQLSTATE in a message produced with `PQERRORS_VERBOSE` ("FATAL:  28P01: password …").
    ///
    /// libpq keeps no result object for a failed handshake, so the verbose text is the only place the code appears;
    /// the pattern is `":  " + five [0-9A-Z] + ":"`, which does not depend on the server's message language.
    static func sqlState(inVerboseMessage message: String) -> String? {
        let bytes = Array(message.utf8)
        guard bytes.count >= 9 else { return nil }
        for i in 0...(bytes.count - 9) where bytes[i] == UInt8(ascii: ":") && bytes[i + 1] == 0x20 && bytes[i + 2] == 0x20 {
            let code = bytes[(i + 3)..<(i + 8)]
            let valid = code.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) }
            if valid && bytes[i + 8] == UInt8(ascii: ":") { return String(decoding: code, as: UTF8.self) }
        }
        return nil
    }
}
