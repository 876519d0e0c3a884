// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// The relations analyst SQL may read: those of the curated schema(s), by qualified name or unqualified, plus
/// the query's own CTE names where they are in scope.
///
/// Catalogue tables and statistics views (`pg_class.reltuples`, `pg_stat_user_tables`, `pg_stat_activity`) and
/// `information_schema` are not row-level secured: through them one tenant would see another's volumes and SQL.
public struct SQLRelationScope: Sendable, Equatable {
    /// Schemas a qualified name may name (exact, as parsed: unquoted identifiers are lowercase).
    public let schemas: Set<String>
    /// Relations of those schemas that may be named without a schema.
    public let relations: Set<String>
    /// How the schemas are named in a refusal ("the analytics schema").
    public let label: String
    /// The tool that lists what may be queried (`warehouse__describe`).
    public let describeTool: String

    /// A scope. Unqualified names starting with `pg_` are left out: `pg_catalog` comes first on the search path,
    /// so such a name could resolve to a catalogue relation instead of the curated one (qualify it instead).
    public init(schemas: Set<String>, relations: Set<String>, describeTool: String) {
        self.schemas = schemas
        self.relations = relations.filter { !$0.hasPrefix("pg_") }
        let sorted = schemas.sorted()
        self.label = sorted.count == 1 ? "the \(sorted[0]) schema" : "the \(sorted.joined(separator: ", ")) schemas"
        self.describeTool = describeTool
    }
}

/// Finds the first relation outside a ``SQLRelationScope``, honouring CTE scoping: in a plain `WITH`, a CTE's
/// own body sees only the CTEs before it (a CTE named `pg_class` reading `pg_class` reads the catalogue); with
/// `WITH RECURSIVE` every CTE of the clause is visible in every body; the statement the clause belongs to sees
/// them all, and so do its subqueries.
struct SQLRelationChecker {
    let scope: SQLRelationScope

    /// The refusal for the first relation (in tree order) that is out of scope, or nil.
    func firstViolation(in statement: JSONValue) -> SQLGateRejection? {
        visit(statement, ctes: [])
    }

    private func visit(_ value: JSONValue, ctes: Set<String>) -> SQLGateRejection? {
        switch value {
        case .array(let items):
            for item in items {
                if let found = visit(item, ctes: ctes) { return found }
            }
            return nil
        case .object(let members):
            if let relname = members["relname"]?.stringValue, let found = check(relname, schema: members["schemaname"]?.stringValue, ctes: ctes) {
                return found
            }
            var visible = ctes
            if let with = members["withClause"], let list = with["ctes"]?.arrayValue {
                let names = list.map { $0["CommonTableExpr"]?["ctename"]?.stringValue ?? "" }
                let recursive = with["recursive"]?.boolValue ?? false
                for (index, cte) in list.enumerated() {
                    let seen = recursive ? ctes.union(names) : ctes.union(names[..<index])
                    if let found = visit(cte, ctes: seen) { return found }
                }
                visible.formUnion(names)
            }
            for key in members.keys.sorted() where key != "withClause" {
                if let child = members[key], let found = visit(child, ctes: visible) { return found }
            }
            return nil
        default:
            return nil
        }
    }

    private func check(_ relname: String, schema: String?, ctes: Set<String>) -> SQLGateRejection? {
        if let schema {
            return scope.schemas.contains(schema) ? nil : .relationNotAllowed("\(schema).\(relname)", scope: scope)
        }
        if ctes.contains(relname) || scope.relations.contains(relname) { return nil }
        return .relationNotAllowed(relname, scope: scope)
    }
}
