// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import MCPCore

extension PostgresBackend {
    static let resultSchema: JSONValue = [
        "type": "object",
        "properties": [
            "columns": ["type": "array", "items": ["type": "object", "properties": ["name": ["type": "string"], "type": ["type": "string"]]]],
            "rows": ["type": "array", "items": ["type": "array"]],
            "row_count": ["type": "integer"],
            "truncated": ["type": "boolean"],
            "next_cursor": ["type": ["string", "null"]],
            "notice": ["type": ["string", "null"]],
        ],
        "required": ["columns", "rows", "row_count", "truncated"],
    ]

    func callTool(_ tool: String, arguments: [String: JSONValue], context: CallContext) async throws -> ToolOutput {
        switch tool {
        case "describe": return try await describe(table: arguments["table"]?.stringValue, context: context)
        case "run_sql" where configuration.analyst.enabled: return try await runSQL(arguments, context: context)
        default:
            guard let query = queries[tool] else { throw BrokerError.notFound("Unknown tool \(tool).") }
            return try await runNamed(query, arguments, context: context)
        }
    }

    func runNamed(_ query: NamedQuery, _ arguments: [String: JSONValue], context: CallContext) async throws -> ToolOutput {
        if let cursor = arguments["cursor"]?.stringValue {
            return try await nextPage(cursor, tool: query.name, maxRows: query.maxRows, timeout: query.timeout, writes: false, context: context)
        }
        // Identity-bound values come from the verified principal, never from the model's arguments.
        let values: [String?] = query.parameters.map { p in
            switch p.source {
            case .argument: return QueryParameter.text(arguments[p.name])
            case .tenant: return context.principal.tenant
            case .principal: return context.principal.id
            case .attribute(let a): return context.principal.attributes[a]
            }
        }
        for (p, v) in zip(query.parameters, values) where p.source != .argument && v == nil {
            throw BrokerError(.forbidden, "This query needs your \(p.name), which your identity does not carry.", backend: name)
        }
        return try await execute(
            tool: query.name, sql: query.sql, parameters: values, offset: 0, maxRows: query.maxRows, timeout: query.timeout,
            writes: query.write, context: context)
    }

    func runSQL(_ arguments: [String: JSONValue], context: CallContext) async throws -> ToolOutput {
        let analyst = configuration.analyst
        if let cursor = arguments["cursor"]?.stringValue {
            return try await nextPage(cursor, tool: "run_sql", maxRows: analyst.maxRows, timeout: analyst.timeout, writes: false, context: context)
        }
        guard let sql = arguments["sql"]?.stringValue else { throw BrokerError.invalidArguments("Pass the query in 'sql'.") }
        let statement: String
        switch gate.check(sql) {
        case .success(let s): statement = s
        case .failure(let rejection):
            context.logger.info("analyst SQL refused", metadata: ["reason": .string(rejection.code)])
            throw BrokerError(.invalidArguments, "Query refused: \(rejection.message)", backend: name)
        }
        return try await execute(
            tool: "run_sql", sql: statement, parameters: [], offset: 0, maxRows: analyst.maxRows, timeout: analyst.timeout,
            writes: false, context: context)
    }

    func nextPage(_ cursor: String, tool: String, maxRows: Int, timeout: Duration, writes: Bool, context: CallContext) async throws -> ToolOutput {
        guard let page = cursors.redeem(cursor, tool: tool, context: context) else {
            throw BrokerError.invalidArguments("The cursor is unknown or expired; run the query again without a cursor.")
        }
        return try await execute(
            tool: tool, sql: page.sql, parameters: page.parameters, offset: page.offset, maxRows: maxRows, timeout: timeout,
            writes: writes, context: context)
    }

    /// Runs one statement with caps, the tighter of the query timeout and the call deadline, and normalization.
    func execute(
        tool: String, sql: String, parameters: [String?], offset: Int, maxRows: Int, timeout: Duration, writes: Bool,
        context: CallContext
    ) async throws -> ToolOutput {
        let pool = try pool(for: context)
        let budget = min(timeout, context.remaining)
        // A newline before the wrapper: the statement may end in a -- comment.
        let statement = offset > 0 ? "SELECT * FROM (\(sql)\n) AS page OFFSET \(offset)" : sql
        let maxBytes = configuration.maxBytes
        let rows: PGRowSet
        do {
            rows = try await Deadline.run(until: .now + budget) {
                try await pool.withConnection(deadline: .now + budget) { c in
                    // The database is the real boundary: a read-only transaction unless the query is declared a
                    // write, and a statement timeout from the call's deadline either way.
                    try await c.execute(writes ? "BEGIN READ WRITE" : "BEGIN READ ONLY")
                    try await c.execute("SET LOCAL statement_timeout = \(max(1, budget.wholeMilliseconds))")
                    let result = try await c.query(statement, parameters: parameters, rowLimit: maxRows + 1, byteLimit: maxBytes)
                    // A write is acknowledged only once COMMIT has returned.
                    try await c.execute(writes ? "COMMIT" : "ROLLBACK")
                    return result
                }
            }
        } catch let e as BrokerError where e.code == .timeout {
            throw PostgresErrors.map(PGError(.timeout, sqlState: nil, serverMessage: nil), backend: name, timeout: timeout)
        } catch {
            throw PostgresErrors.map(error, backend: name, timeout: timeout)
        }
        return output(rows, tool: tool, sql: sql, parameters: parameters, offset: offset, maxRows: maxRows, context: context)
    }

    func output(_ set: PGRowSet, tool: String, sql: String, parameters: [String?], offset: Int, maxRows: Int, context: CallContext) -> ToolOutput {
        let kept = Array(set.rows.prefix(maxRows))
        let truncated = set.truncated || set.rows.count > maxRows
        let rows: [[JSONValue]] = kept.map { row in zip(row, set.columns).map { RowNormalizer.value($0, oid: $1.typeOID) } }
        var cursor: String?
        var notice: String?
        if truncated {
            let next = offset + kept.count
            cursor = cursors.issue(tool: tool, context: context, sql: sql, parameters: parameters, offset: next)
            let why = set.rows.count > maxRows ? "the \(maxRows)-row cap" : "the \(configuration.maxBytes)-byte cap"
            notice = "Truncated at \(why): rows \(offset + 1)-\(next) shown. Call again with cursor \"\(cursor ?? "")\" for more, or narrow the query (filters, GROUP BY, LIMIT)."
        }
        let columns: [JSONValue] = set.columns.map { ["name": .string($0.name), "type": .string(RowNormalizer.typeName($0.typeOID))] }
        let structured: JSONValue = [
            "columns": .array(columns), "rows": .array(rows.map { .array($0) }), "row_count": .int(rows.count), "truncated": .bool(truncated),
            "next_cursor": .string(cursor), "notice": .string(notice),
        ]
        var text = "\(rows.count) row\(rows.count == 1 ? "" : "s")\(truncated ? " (truncated)" : "")\n"
        text += RowNormalizer.table(columns: set.columns.map(\.name), rows: rows)
        if let notice { text += "\n" + notice }
        return ToolOutput(structured: structured, text: text)
    }
}
