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
            throw BrokerError(.forbidden, "This query needs your \(p.name), which your identity does not carry.", backend: name).callerFault()
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
        guard let sql = arguments["sql"]?.stringValue else { throw BrokerError.invalidArguments("Pass the query in 'sql'.").callerFault() }
        let scope = try await relationScope(context: context)
        let statement: String
        switch gate.check(sql, scope: scope) {
        case .success(let s): statement = s
        case .failure(let rejection):
            context.logger.info("analyst SQL refused", metadata: ["reason": .string(rejection.code)])
            throw BrokerError(.invalidArguments, "Query refused: \(rejection.message)", backend: name).callerFault()
        }
        return try await execute(
            tool: "run_sql", sql: statement, parameters: [], offset: 0, maxRows: analyst.maxRows, timeout: analyst.timeout,
            writes: false, context: context)
    }

    func nextPage(_ cursor: String, tool: String, maxRows: Int, timeout: Duration, writes: Bool, context: CallContext) async throws -> ToolOutput {
        guard let page = cursors.redeem(cursor, tool: tool, context: context) else {
            throw BrokerError.invalidArguments("The cursor is unknown or expired; run the query again without a cursor.").callerFault()
        }
        return try await execute(
            tool: tool, sql: page.sql, parameters: page.parameters, offset: page.offset, maxRows: maxRows, timeout: timeout,
            writes: writes, context: context)
    }

    /// Runs one statement with caps, the tighter of the query timeout and the call deadline, and normalization.
    ///
    /// Analyst SQL and read-only named SELECTs run as a ``BoundedSelect`` (described first; named queries' columns
    /// are cached), so the server withholds any row that would take the page past `limits.max_bytes`.
    func execute(
        tool: String, sql: String, parameters: [String?], offset: Int, maxRows: Int, timeout: Duration, writes: Bool,
        context: CallContext
    ) async throws -> ToolOutput {
        let pool = try pool(for: context)
        let origin: QueryOrigin = tool == "run_sql" ? .analyst : .named(tool)
        // Leave the call's own deadline a margin so that our statement_timeout, not the broker's watchdog, ends a
        // slow statement: that is what tells the caller's heavy query apart from a backend that stopped answering.
        let budget = max(.milliseconds(1), min(timeout, context.remaining - .milliseconds(250)))
        let bounded = !writes && (origin == .analyst || boundable.contains(tool))
        let known = bounded && origin != .analyst ? described.columns(of: tool) : nil
        // Analyst SQL passed the gate (one SELECT); named queries were checked for COPY at load.
        let plan = ExecutionPlan(
            sql: sql, parameters: parameters, offset: offset, rowLimit: maxRows + 1, byteCap: configuration.maxBytes,
            writes: writes, bounded: bounded, knownColumns: known,
            searchPath: origin == .analyst ? configuration.schema : nil, statementTimeout: budget, pipelined: !unpipelinable.contains(tool))
        let run: ExecutionPlan.Outcome
        do {
            run = try await Deadline.run(until: .now + budget + .milliseconds(250)) {
                try await pool.withConnection(deadline: .now + budget) { c in try await plan.traced(on: c) }
            }
        } catch let e as BrokerError where e.code == .timeout {
            described.forget(tool)
            throw PostgresErrors.map(PGError(.timeout, sqlState: nil, serverMessage: nil), backend: name, timeout: timeout)
        } catch {
            described.forget(tool)
            throw PostgresErrors.map(error, backend: name, timeout: timeout, origin: origin)
        }
        if bounded, origin != .analyst, known == nil, let columns = run.columns { described.remember(tool, columns) }
        return try output(run.rows, tool: tool, sql: sql, parameters: parameters, offset: offset, maxRows: maxRows, context: context)
    }

    func output(_ set: PGRowSet, tool: String, sql: String, parameters: [String?], offset: Int, maxRows: Int, context: CallContext) throws -> ToolOutput {
        let kept = Array(set.rows.prefix(maxRows))
        let truncated = set.truncated || set.rows.count > maxRows
        // A page must make progress: a first row that cannot be shown is refused with what to select instead,
        // never answered with "0 rows" and a cursor that would return the same nothing again.
        if truncated, kept.isEmpty {
            throw AnswerLimit.refusal(set.oversize, columns: set.columns, row: offset + 1, cap: configuration.maxBytes, backend: name)
        }
        let rows: [[JSONValue]] = kept.map { row in zip(row, set.columns).map { RowNormalizer.value($0, oid: $1.typeOID) } }
        var cursor: String?
        var notice: String?
        if truncated {
            let next = offset + kept.count
            cursor = cursors.issue(tool: tool, context: context, sql: sql, parameters: parameters, offset: next)
            let why = set.rows.count > maxRows ? "the \(maxRows)-row cap" : "the \(AnswerLimit.grouped(configuration.maxBytes))-byte cap"
            if let cursor {
                notice = "Truncated at \(why): rows \(offset + 1)-\(next) shown. Call again with cursor \"\(cursor)\" for more, or narrow the query (filters, GROUP BY, LIMIT)."
            } else {
                notice = "Truncated at \(why): rows \(offset + 1)-\(next) shown. The query and its parameters are too long to continue with a cursor: narrow the query (filters, GROUP BY, LIMIT)."
            }
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
