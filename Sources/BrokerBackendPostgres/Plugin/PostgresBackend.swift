// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import MCPCore

/// A PostgreSQL warehouse behind the broker: ops-declared named queries as tools, an opt-in analyst SQL tool
/// gated by the real PostgreSQL parser, and schema discovery.
///
/// Each tenant connects as its own login role (row-level security keys on it), through its own pool. Every
/// query uses the extended protocol; analyst SQL runs inside `BEGIN READ ONLY` with `SET LOCAL statement_timeout`
/// derived from the call's deadline. Rows and bytes are capped while reading, and a truncated result says so and
/// carries an opaque, tenant-bound cursor for the next page.
final class PostgresBackend: Backend {
    let name: String
    let configuration: PostgresConfiguration
    let pools: [String: PGPool]
    let gate: SQLGate
    let cursors: ResultCursors
    let queries: [String: NamedQuery]
    /// Read-only named queries that are one SELECT, so they can run as a ``BoundedSelect``.
    let boundable: Set<String>
    /// Named queries that libpq pipeline mode cannot carry (a COPY): they run one statement per round trip.
    let unpipelinable: Set<String>
    /// Describe results of the boundable named queries.
    let described = DescribedQueries()
    /// The curated relations per tenant, for the SQL gate.
    let relations = CuratedRelations()
    let logger: Logger

    init(name: String, configuration: PostgresConfiguration, logger: Logger, metrics: BackendMetrics = .disabled) {
        self.name = name
        self.configuration = configuration
        self.logger = logger
        // A cursor carries its SQL: room for the longest analyst query and the longest named one.
        let longestNamed = configuration.queries.map(\.sql.utf8.count).max() ?? 0
        self.cursors = ResultCursors(backend: name, maxSQLBytes: max(configuration.analyst.maxSQLBytes, longestNamed))
        var pools: [String: PGPool] = [:]
        for (tenant, credentials) in configuration.tenants {
            let settings = PGConnectionSettings(
                host: configuration.host, port: configuration.port, database: configuration.database, user: credentials.user,
                password: credentials.password, sslMode: configuration.sslMode, connectTimeout: configuration.connectTimeout)
            pools[tenant] = PGPool(name: "\(name)/\(tenant)", settings: settings, configuration: configuration.pool, logger: logger, metrics: metrics)
        }
        self.pools = pools
        // The backend's pools (one per tenant role) as one set of levels, read at scrape time while they exist.
        let watched = pools.values.map { WeakPool($0) }
        metrics.watchPools {
            let live = watched.compactMap(\.pool)
            guard !live.isEmpty else { return nil }
            return live.reduce(into: PoolLevels()) { levels, pool in
                let s = pool.statistics()
                levels.idle += s.idle
                levels.inUse += s.leased
                levels.waiting += s.waiting
            }
        }
        self.gate = SQLGate(
            allowedFunctions: SQLGate.defaultFunctions.union(configuration.analyst.extraFunctions), maxBytes: configuration.analyst.maxSQLBytes)
        var byName: [String: NamedQuery] = [:]
        for q in configuration.queries { byName[q.name] = q }
        self.queries = byName
        self.boundable = Set(configuration.queries.filter { !$0.write && SQLGate.isSelect($0.sql) }.map(\.name))
        self.unpipelinable = Set(configuration.queries.filter { !SQLGate.isPipelinable($0.sql) }.map(\.name))
    }

    /// The pool of the caller's tenant; a tenant without a configured role is refused.
    func pool(for context: CallContext) throws(BrokerError) -> PGPool {
        guard let pool = pools[context.principal.tenant] else {
            throw BrokerError(.forbidden, "Your organisation has no access to the \(name) warehouse.", backend: name)
        }
        return pool
    }

    var suffix: String { configuration.description.map { " (\($0))" } ?? "" }

    var tools: [ToolDefinition] {
        var out = configuration.queries.map { q in
            ToolDefinition(
                name: q.name, description: q.description + suffix, inputSchema: q.inputSchema(cursorMaxLength: cursors.maxTokenLength), outputSchema: Self.resultSchema,
                annotations: q.write ? ToolAnnotations(readOnly: false, destructive: false, idempotent: false, openWorld: false) : .readOnly)
        }
        out.append(
            ToolDefinition(
                name: "describe",
                description: "Lists the tables and views you can query in the \(configuration.schema) schema, or, given a table, its columns "
                    + "with types, nullability and comments. Use it before writing SQL.\(suffix)",
                inputSchema: [
                    "type": "object", "additionalProperties": false,
                    "properties": ["table": ["type": "string", "maxLength": 63, "description": "table or view name; omit for the list"]],
                ],
                outputSchema: Self.describeSchema, annotations: .readOnly))
        if configuration.analyst.enabled {
            out.append(
                ToolDefinition(
                    name: "run_sql",
                    description: "Runs ONE read-only SELECT against the \(configuration.schema) schema (joins, CTEs, window functions and "
                        + "aggregates are fine; writes, locks, SELECT INTO and session functions are refused). Results are capped at "
                        + "\(configuration.analyst.maxRows) rows; a truncated result returns next_cursor. Add ORDER BY for stable pages.\(suffix)",
                    inputSchema: [
                        "type": "object", "additionalProperties": false,
                        "properties": [
                            "sql": ["type": "string", "minLength": 1, "maxLength": .int(configuration.analyst.maxSQLBytes)],
                            "cursor": ["type": "string", "maxLength": .int(cursors.maxTokenLength), "description": "next_cursor of a truncated result"],
                        ],
                    ],
                    outputSchema: Self.resultSchema, annotations: .readOnly))
        }
        return out
    }

    var resources: [Resource] {
        [
            Resource(
                uri: ResourceURI.make(backend: name, path: "schema"), name: "\(name)-schema", title: "Warehouse schema",
                description: "Tables and views of the \(configuration.schema) schema with their comments")
        ]
    }

    var resourceTemplates: [ResourceTemplate] {
        [
            ResourceTemplate(
                uriTemplate: ResourceURI.make(backend: name, path: "tables/{table}"), name: "\(name)-table", title: "Warehouse table",
                description: "Columns, types and comments of one table or view")
        ]
    }

    var prompts: [Prompt] {
        [
            Prompt(
                name: "analyze_question", title: "Answer a question from the warehouse",
                description: "Plan and run safe read-only queries to answer a business question",
                arguments: [PromptArgument(name: "question", description: "the business question", required: true)])
        ]
    }

    func getPrompt(_ prompt: String, arguments: [String: String], context: CallContext) async throws -> GetPromptResult {
        let question = arguments["question"] ?? ""
        let named = configuration.queries.map { "\(name)__\($0.name)" }.joined(separator: ", ")
        let text = """
            Answer this question from the \(name) warehouse: \(question)
            1. Prefer the curated named queries when one fits: \(named).
            2. Otherwise read broker://\(name)/schema and call \(name)__describe for the tables you need, then write one SELECT for \(name)__run_sql.
            3. Aggregate in SQL (GROUP BY, window functions) rather than fetching raw rows; add ORDER BY and LIMIT.
            4. If a result says it was truncated, either narrow the query or follow next_cursor.
            Report the answer with the numbers and the query you used.
            """
        return GetPromptResult(description: "Warehouse analysis plan", messages: [PromptMessage(role: .user, content: .text(text))])
    }

    func checkHealth(context: CallContext) async -> HealthReport {
        guard let tenant = pools.keys.sorted().first, let pool = pools[tenant] else { return HealthReport(healthy: false, reason: "no tenants configured") }
        do {
            _ = try await pool.withConnection(deadline: .now + .seconds(3)) { c in
                try await c.query("SELECT 1", parameters: [], rowLimit: 1, byteLimit: 1024)
            }
            return .ok
        } catch {
            let mapped = PostgresErrors.map(error, backend: name, timeout: .seconds(3))
            return HealthReport(healthy: false, reason: mapped.message)
        }
    }
}
