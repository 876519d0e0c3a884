// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

extension PostgresBackend {
    static let describeSchema: JSONValue = [
        "type": "object",
        "properties": [
            "schema": ["type": "string"],
            "tables": ["type": "array", "items": ["type": "object"]],
            "table": ["type": ["object", "null"]],
        ],
        "required": ["schema"],
    ]

    static let listSQL = """
        SELECT c.relname, CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'table' END,
               obj_description(c.oid, 'pg_class')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'p') AND has_table_privilege(c.oid, 'SELECT')
        ORDER BY 1
        """
    static let columnsSQL = """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, col_description(a.attrelid, a.attnum),
               obj_description(c.oid, 'pg_class')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped AND has_table_privilege(c.oid, 'SELECT')
        ORDER BY a.attnum
        """

    /// Tables and views the caller's role can read.
    func listTables(context: CallContext) async throws -> [JSONValue] {
        let set = try await introspect(Self.listSQL, [configuration.schema], context: context)
        return set.rows.map { r in
            ["name": .string(r[0]), "kind": .string(r[1]), "comment": .string(r[2]), "uri": .string(ResourceURI.make(backend: name, path: "tables/\(r[0] ?? "")"))]
        }
    }

    /// One table's columns, or `nil` when it does not exist (or the role cannot read it).
    func describeTable(_ table: String, context: CallContext) async throws -> JSONValue? {
        let set = try await introspect(Self.columnsSQL, [configuration.schema, table], context: context)
        guard let first = set.rows.first else { return nil }
        // The table comment rides along on every column row: one query, not a second listing.
        let comment = JSONValue.string(first.count > 4 ? first[4] : nil)
        let columns: [JSONValue] = set.rows.map { r in
            ["name": .string(r[0]), "type": .string(r[1]), "nullable": .bool(r[2] == "t"), "comment": .string(r[3])]
        }
        return ["name": .string(table), "schema": .string(configuration.schema), "comment": comment, "columns": .array(columns)]
    }

    func introspect(_ sql: String, _ parameters: [String?], context: CallContext) async throws -> PGRowSet {
        let pool = try pool(for: context)
        do {
            return try await pool.withConnection(deadline: min(context.deadline, .now + .seconds(5))) { c in
                try await c.query(sql, parameters: parameters, rowLimit: 2000, byteLimit: 1 << 20)
            }
        } catch {
            throw PostgresErrors.map(error, backend: name, timeout: .seconds(5))
        }
    }

    func describe(table: String?, context: CallContext) async throws -> ToolOutput {
        guard let table else {
            let tables = try await listTables(context: context)
            let lines = tables.map { t in "\(t["name"]?.stringValue ?? "") (\(t["kind"]?.stringValue ?? "")): \(t["comment"]?.stringValue ?? "")" }
            return ToolOutput(
                structured: ["schema": .string(configuration.schema), "tables": .array(tables), "table": .null],
                text: "Schema \(configuration.schema): \(tables.count) tables and views\n" + lines.joined(separator: "\n"))
        }
        guard let detail = try await describeTable(table, context: context) else {
            throw BrokerError.notFound("Table \(table) does not exist in schema \(configuration.schema) (or you cannot read it); call \(name)__describe without a table for the list.")
        }
        let cols = detail["columns"]?.arrayValue ?? []
        let lines = cols.map { c in
            "\(c["name"]?.stringValue ?? "") \(c["type"]?.stringValue ?? "")\(c["nullable"] == .bool(true) ? "" : " not null")"
                + (c["comment"]?.stringValue.map { " — \($0)" } ?? "")
        }
        return ToolOutput(
            structured: ["schema": .string(configuration.schema), "tables": [], "table": detail],
            text: "\(configuration.schema).\(table): \(detail["comment"]?.stringValue ?? "")\n" + lines.joined(separator: "\n"))
    }

    func readResource(uri: String, context: CallContext) async throws -> [ResourceContents] {
        let path = ResourceURI.path(of: uri) ?? ""
        if path == "schema" {
            let tables = try await listTables(context: context)
            return [ResourceContents(uri: uri, text: JSONValue.object(["schema": .string(configuration.schema), "tables": .array(tables)]).jsonText)]
        }
        if path.hasPrefix("tables/") {
            let table = String(path.dropFirst("tables/".count))
            if !table.isEmpty, !table.contains("/"), let detail = try await describeTable(table, context: context) {
                return [ResourceContents(uri: uri, text: detail.jsonText)]
            }
        }
        throw BrokerError.notFound("Resource \(uri) not found.")
    }
}
