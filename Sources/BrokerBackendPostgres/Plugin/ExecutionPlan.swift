// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Synchronization
import Tracing

/// The statements one warehouse call sends on its pooled connection, in order.
///
/// `BEGIN READ ONLY` (or `READ WRITE` for a declared write) and `SET LOCAL statement_timeout` always; for analyst
/// SQL also `SET LOCAL search_path` to the curated schema; then, for a bounded query, Describe and the
/// ``BoundedSelect`` rewrite; then the statement; then `ROLLBACK` (or `COMMIT` for a write).
struct ExecutionPlan: Sendable {
    /// What the call read, and the columns Describe reported (nil when the query ran unbounded).
    struct Outcome: Sendable {
        let rows: PGRowSet
        let columns: [PGColumn]?
    }

    let sql: String
    let parameters: [String?]
    let offset: Int
    /// Rows to read at most (the row cap plus one).
    let rowLimit: Int
    let byteCap: Int
    let writes: Bool
    /// Run as a ``BoundedSelect``.
    let bounded: Bool
    /// Cached Describe result for a named query; nil means describe now.
    let knownColumns: [PGColumn]?
    /// The curated schema for analyst SQL (nil: leave the role's search_path).
    let searchPath: String?
    let statementTimeout: Duration

    /// Runs the plan inside a client span `pg.query` (when spans are exported), every statement tagged with the
    /// trace context.
    func traced(on c: PGConnection) async throws(PGError) -> Outcome {
        let outcome: Result<Outcome, PGError> = await withChildSpan("pg.query", ofKind: .client) { span in
            if span.isRecording {
                var attributes: SpanAttributes = ["db.system.name": "postgresql"]
                if let operation = SQLComment.operationName(sql) { attributes["db.operation.name"] = operation }
                span.set(attributes)
            }
            let comment = SQLComment(TracePropagation.traceParent(in: span.context))
            do throws(PGError) {
                return .success(try await run(on: c, comment: comment))
            } catch {
                if span.isRecording { span.fail(error.sqlState ?? String(describing: error.kind)) }
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    func run(on c: PGConnection, comment: SQLComment = SQLComment(nil)) async throws(PGError) -> Outcome {
        // The database is the real boundary: a read-only transaction unless the query is declared a write, and a
        // statement timeout from the call's deadline either way.
        try await c.execute(comment.tag(writes ? "BEGIN READ WRITE" : "BEGIN READ ONLY"))
        try await c.execute(comment.tag("SET LOCAL statement_timeout = \(max(1, statementTimeout.wholeMilliseconds))"))
        if let searchPath {
            // pg_catalog first, as PostgreSQL does implicitly (built-in functions and operators win); pg_temp last
            // so that no temporary object can shadow a curated name.
            try await c.execute(comment.tag("SET LOCAL search_path = pg_catalog, \(Self.identifier(searchPath)), pg_temp"))
        }
        var columns: [PGColumn]?
        var statement = offset > 0 ? "SELECT * FROM (\(sql)\n) AS page OFFSET \(offset)" : sql
        var marked = false
        if bounded {
            let described: [PGColumn]
            if let knownColumns { described = knownColumns } else { described = try await c.describe(comment.tag(sql)) }
            columns = described
            let rewrite = BoundedSelect(sql: sql, columns: described, byteCap: byteCap, offset: offset, rowLimit: rowLimit)
            if let bounded = rewrite.statement {
                statement = bounded
                marked = true
            }
        }
        var rows = try await c.query(comment.tag(statement), parameters: parameters, rowLimit: rowLimit, byteLimit: byteCap, sizeMarker: marked)
        // A write is acknowledged only once COMMIT has returned.
        try await c.execute(comment.tag(writes ? "COMMIT" : "ROLLBACK"))
        // The rewrite names its columns c1…cn: show the caller's names (the types are the rewrite's, which are the same).
        if marked, let columns, columns.count == rows.columns.count {
            rows.columns = zip(columns, rows.columns).map { PGColumn(name: $0.name, typeOID: $1.typeOID) }
        }
        return Outcome(rows: rows, columns: columns)
    }

    /// A double-quoted SQL identifier.
    static func identifier(_ name: String) -> String {
        "\"" + name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }
}

/// Describe results of named queries, so a named query pays for Describe once, not on every call.
///
/// An entry is dropped whenever its query fails (an ops schema change may have changed its columns) and
/// re-learned on the next call.
final class DescribedQueries: Sendable {
    private let entries = Mutex<[String: [PGColumn]]>([:])

    func columns(of query: String) -> [PGColumn]? { entries.withLock { $0[query] } }
    func remember(_ query: String, _ columns: [PGColumn]) { entries.withLock { $0[query] = columns } }
    func forget(_ query: String) { _ = entries.withLock { $0.removeValue(forKey: query) } }
}
