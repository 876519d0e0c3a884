// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Synchronization
import Tracing

/// The statements one warehouse call sends on its pooled connection, in order.
///
/// `BEGIN READ ONLY` (or `READ WRITE` for a declared write) and `SET LOCAL statement_timeout` always; for analyst
/// SQL also `SET LOCAL search_path` to the curated schema; then, for a bounded query, Describe and the
/// ``BoundedSelect`` rewrite; then the statement; then `ROLLBACK` (or `COMMIT` for a write). They go out in libpq
/// pipeline mode: one round trip, or two when Describe must come back before the rewrite.
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
    /// Send the transaction in libpq pipeline mode (one round trip); false only for a statement pipeline mode
    /// cannot carry (COPY), which then runs one statement per round trip.
    var pipelined = true

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
        pipelined ? try await runPipelined(on: c, comment: comment) : try await runSequentially(on: c, comment: comment)
    }

    /// The statements that open the transaction. The database is the real boundary: a read-only transaction
    /// unless the query is declared a write, and a statement timeout from the call's deadline either way.
    func prologue(_ comment: SQLComment) -> [String] {
        var statements = [
            comment.tag(writes ? "BEGIN READ WRITE" : "BEGIN READ ONLY"),
            comment.tag("SET LOCAL statement_timeout = \(max(1, statementTimeout.wholeMilliseconds))"),
        ]
        if let searchPath {
            // pg_catalog first, as PostgreSQL does implicitly (built-in functions and operators win); pg_temp last
            // so that no temporary object can shadow a curated name.
            statements.append(comment.tag("SET LOCAL search_path = pg_catalog, \(Self.identifier(searchPath)), pg_temp"))
        }
        return statements
    }

    /// One round trip: the prologue, the statement, a sync point, then ROLLBACK (COMMIT) in a segment of its own,
    /// so that it runs even when the statement failed. A bounded query not yet described takes one more round trip
    /// first (the prologue and Describe), because the rewrite needs the columns.
    private func runPipelined(on c: PGConnection, comment: SQLComment) async throws(PGError) -> Outcome {
        var opening = prologue(comment).map { PGPipeline.Step.command($0) }
        var columns: [PGColumn]?
        if bounded {
            if let knownColumns {
                columns = knownColumns
            } else {
                // The transaction stays open for the statement; if Describe fails, the pool's release rolls it back.
                columns = try await c.pipeline(PGPipeline(steps: opening + [.describe(comment.tag(sql)), .sync])).columns ?? []
                opening = []
            }
        }
        let (statement, marked) = self.statement(columns: columns)
        let closing: PGPipeline.Step = writes ? .commit(comment.tag("COMMIT")) : .command(comment.tag("ROLLBACK"))
        let steps = opening + [.query(comment.tag(statement), parameters: parameters), .sync, closing, .sync]
        let read = try await c.pipeline(PGPipeline(steps: steps, rowLimit: rowLimit, byteLimit: byteCap, sizeMarker: marked))
        return outcome(read.rows, columns: columns, marked: marked)
    }

    /// One round trip per statement: for a named query that pipeline mode cannot carry (a COPY).
    private func runSequentially(on c: PGConnection, comment: SQLComment) async throws(PGError) -> Outcome {
        for statement in prologue(comment) { try await c.execute(statement) }
        var columns: [PGColumn]?
        if bounded {
            if let knownColumns { columns = knownColumns } else { columns = try await c.describe(comment.tag(sql)) }
        }
        let (statement, marked) = self.statement(columns: columns)
        let rows = try await c.query(comment.tag(statement), parameters: parameters, rowLimit: rowLimit, byteLimit: byteCap, sizeMarker: marked)
        // A write is acknowledged only once COMMIT has returned.
        try await c.execute(comment.tag(writes ? "COMMIT" : "ROLLBACK"))
        return outcome(rows, columns: columns, marked: marked)
    }

    /// The statement to run: the page (OFFSET) of the caller's SQL, as a ``BoundedSelect`` when bounded and described;
    /// `marked` says the last column is the size marker.
    private func statement(columns: [PGColumn]?) -> (sql: String, marked: Bool) {
        if bounded, let columns,
            let rewritten = BoundedSelect(sql: sql, columns: columns, byteCap: byteCap, offset: offset, rowLimit: rowLimit).statement
        {
            return (rewritten, true)
        }
        return (offset > 0 ? "SELECT * FROM (\(sql)\n) AS page OFFSET \(offset)" : sql, false)
    }

    private func outcome(_ read: PGRowSet, columns: [PGColumn]?, marked: Bool) -> Outcome {
        var rows = read
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
