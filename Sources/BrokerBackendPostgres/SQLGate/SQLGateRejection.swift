// SPDX-License-Identifier: Apache-2.0

/// Why a query was refused, phrased for the analyst (what to change), plus a stable reason code.
///
/// The message only ever quotes the analyst's own SQL (names, parser messages about their text); it never
/// contains server error text. Codes: `too_long`, `empty`, `invalid`, `syntax`, `too_complex`,
/// `multiple_statements`, `not_select`, `select_into`, `locking`, `data_modifying_cte`,
/// `function_not_allowed`, `not_allowed`, `relation_not_allowed`.
public struct SQLGateRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable, machine-readable reason (for logs, metrics and tests).
    public let code: String
    /// What the analyst should change, in one or two sentences.
    public let message: String

    /// Creates a rejection from a code and an analyst-facing message.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`, for logs.
    public var description: String { "\(code): \(message)" }
}

extension SQLGateRejection {
    /// The query is longer than the configured byte limit.
    static func tooLong(bytes: Int, limit: Int) -> Self {
        .init(
            code: "too_long",
            message: "The query is \(bytes) bytes; the limit is \(limit) bytes. Shorten it (select only the columns "
                + "you need, move repeated logic into one CTE) and send it again.")
    }

    /// Nothing but whitespace and comments.
    static let empty = Self(
        code: "empty", message: "The query is empty (only whitespace or comments). Send one SELECT statement.")

    /// A NUL byte, which would silently truncate the text further down.
    static let nulByte = Self(
        code: "invalid", message: "The query contains a NUL character (\\0). Remove it and send the query again.")

    /// The parse tree could not be read back; fail closed without blaming the analyst's syntax.
    static let unanalyzable = Self(
        code: "invalid", message: "The query could not be analyzed. Simplify it and send one plain SELECT statement.")

    /// PostgreSQL's own parser refused the text; its message describes the analyst's SQL, so it is shown.
    static func syntax(_ parserMessage: String, cursor: Int) -> Self {
        let position = cursor > 0 ? " at character \(cursor)" : ""
        return .init(
            code: "syntax",
            message: "Syntax error\(position): \(parserMessage). Fix the SQL and send one SELECT statement.")
    }

    /// The tree is nested deeper than the gate analyzes.
    static let tooComplex = Self(
        code: "too_complex",
        message: "The query is nested too deeply to analyze. Flatten it (fewer nested subqueries, parentheses or "
            + "operators; use CTEs) and send it again.")

    /// More than one statement.
    static let multipleStatements = Self(
        code: "multiple_statements", message: "Send one SELECT statement; remove everything after the first ';'.")

    /// A statement other than SELECT.
    static func notSelect(_ kind: String) -> Self {
        .init(
            code: "not_select",
            message: "Only one read-only SELECT is allowed, but this is a \(kind) statement. Rewrite it as a SELECT "
                + "(WITH … SELECT, UNION and VALUES are fine).")
    }

    /// `SELECT … INTO` creates a table.
    static let selectInto = Self(
        code: "select_into",
        message: "SELECT … INTO creates a table and is not allowed. Remove the INTO clause; the rows are returned to "
            + "you directly.")

    /// A row-locking clause.
    static let locking = Self(
        code: "locking",
        message: "Row-locking clauses (FOR UPDATE, FOR NO KEY UPDATE, FOR SHARE, FOR KEY SHARE) are not allowed. "
            + "Remove the FOR … clause; analyst queries only read.")

    /// A WITH query that is not a SELECT.
    static func dataModifyingCTE(name: String, kind: String) -> Self {
        .init(
            code: "data_modifying_cte",
            message: "The WITH query \"\(name)\" is a \(kind); every WITH query must be a SELECT. Remove the "
                + "data-modifying part.")
    }

    /// A function outside the allowlist (or qualified with a schema other than pg_catalog).
    static func functionNotAllowed(_ name: String) -> Self {
        .init(
            code: "function_not_allowed",
            message: "\(name) is not allowed in analyst queries; allowed functions include aggregates (count, sum, "
                + "avg…), window functions, date/time, string and math functions.")
    }

    /// A construct the gate refuses outright (temporary schema, sampling methods, foreign operators).
    static func notAllowed(_ what: String, instead: String) -> Self {
        .init(code: "not_allowed", message: "\(what) is not allowed in analyst queries; \(instead).")
    }

    /// A relation outside the curated schema (catalogue, statistics views, information_schema, other schemas).
    static func relationNotAllowed(_ name: String, scope: SQLRelationScope) -> Self {
        .init(
            code: "relation_not_allowed",
            message: "\(name) is not a table or view of \(scope.label); call \(scope.describeTool) to see what you can query.")
    }
}
