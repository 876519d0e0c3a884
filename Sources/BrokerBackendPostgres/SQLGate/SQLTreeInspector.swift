// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// Walks a whole libpg_query raw parse tree (every node, every depth) and finds what an analyst query may not do.
///
/// It matches on shapes rather than on a list of known places, because libpg_query's JSON writes a node wrapped
/// in its type name (`{"FuncCall":{…}}`) where the C field is a generic `Node *`, but unwrapped where the field
/// is typed (`"larg":{…}` of a UNION, `"intoClause":{…}`). So: any object with a `funcname` is a function call,
/// any object with a `relname` is a relation, any `intoClause`/`lockingClause` key counts wherever it appears.
struct SQLTreeInspector {
    /// Functions that may be called, unqualified or qualified with `pg_catalog`.
    let allowedFunctions: Set<String>

    // Lower rank wins when a query breaks several rules, so the reported reason does not depend on
    // dictionary order and the most structural problem is named first.
    private var found: (rank: Int, rejection: SQLGateRejection)?

    /// An inspector for one tree.
    init(allowedFunctions: Set<String>) {
        self.allowedFunctions = allowedFunctions
    }

    /// The most important rule `statement` (the object under `stmts[0].stmt`) breaks, or `nil` if it is admissible.
    mutating func firstViolation(in statement: JSONValue) -> SQLGateRejection? {
        found = nil
        visit(statement)
        return found?.rejection
    }

    private mutating func report(_ rank: Int, _ rejection: SQLGateRejection) {
        if let current = found, current.rank <= rank { return }
        found = (rank, rejection)
    }

    private mutating func visit(_ value: JSONValue) {
        switch value {
        case .array(let items):
            for item in items { visit(item) }
        case .object(let members):
            inspect(members)
            // Sorted keys: deterministic traversal, hence a deterministic message among equal-rank findings.
            for key in members.keys.sorted() {
                if let child = members[key] { visit(child) }
            }
        default:
            break
        }
    }

    private mutating func inspect(_ node: [String: JSONValue]) {
        if let funcname = node["funcname"] { checkFunction(funcname) }
        if let typeName = node["typeName"] ?? node["TypeName"] { checkType(typeName) }
        if node["relname"] != nil, let schema = node["schemaname"]?.stringValue { checkSchema(schema) }
        if let into = node["intoClause"], !into.isNull { report(1, .selectInto) }
        if let locking = node["lockingClause"], !(locking.arrayValue?.isEmpty ?? false) { report(2, .locking) }
        for key in node.keys.sorted() {
            let body = node[key] ?? .null
            switch key {
            case "CommonTableExpr": checkCTE(body)
            case "RangeTableSample": checkSampleMethod(body["method"])
            case "A_Expr": checkOperator(body["name"])
            case "SubLink": checkOperator(body["operName"])
            case "XmlExpr": reportXML(body["op"]?.stringValue)
            case "XmlSerialize": report(4, .functionNotAllowed("XMLSERIALIZE"))
            case "RangeTableFunc": report(4, .functionNotAllowed("XMLTABLE"))
            case "SelectStmt": break
            default:
                // The grammar only nests statements inside WITH (checked above); anything else is refused anyway.
                if key.hasSuffix("Stmt"), key.first?.isUppercase == true {
                    report(0, .notSelect(SQLStatementNames.name(of: key, body: body)))
                }
            }
        }
    }

    private mutating func checkCTE(_ cte: JSONValue) {
        let name = cte["ctename"]?.stringValue ?? "?"
        guard let query = cte["ctequery"]?.objectValue, query.count == 1, let kind = query.keys.first else {
            report(0, .dataModifyingCTE(name: name, kind: "statement the gate cannot read"))
            return
        }
        if kind != "SelectStmt" {
            report(0, .dataModifyingCTE(name: name, kind: SQLStatementNames.name(of: kind, body: query[kind] ?? .null)))
        }
    }

    private mutating func checkFunction(_ funcname: JSONValue) {
        guard let parts = Self.names(funcname), let last = parts.last else {
            report(4, .functionNotAllowed("This function call"))
            return
        }
        let display = parts.joined(separator: ".")
        // Exact, case-sensitive schema match: only the built-in catalog may be named explicitly.
        let qualifiedOK = parts.count == 1 || (parts.count == 2 && parts[0] == "pg_catalog")
        if !qualifiedOK || !allowedFunctions.contains(last) {
            report(4, .functionNotAllowed(display))
        }
    }

    /// The object-identifier types whose input function looks names up in the catalogue: `'pg_class'::regclass`
    /// reads catalogue rows the curated schema does not expose, and `::regclass::oid` probes what exists.
    static let catalogueLookupTypes: Set<String> = [
        "regclass", "regtype", "regproc", "regprocedure", "regoper", "regoperator", "regconfig", "regdictionary",
        "regnamespace", "regrole", "regcollation",
    ]

    private mutating func checkType(_ typeName: JSONValue) {
        guard let parts = typeName["names"].flatMap(Self.names), let last = parts.last?.lowercased() else { return }
        if Self.catalogueLookupTypes.contains(last) {
            report(3, .notAllowed("A cast to \(last)", instead: "name the curated tables and views directly (warehouse__describe lists them)"))
        }
    }

    private mutating func checkSchema(_ schema: String) {
        // pg_temp (and its per-session pg_temp_N) hold objects any session may create; the curated schema is
        // the only place analyst data lives.
        if schema.lowercased().hasPrefix("pg_temp") {
            report(3, .notAllowed("The temporary schema \(schema)", instead: "query the curated analytics tables and views"))
        }
    }

    private mutating func checkSampleMethod(_ method: JSONValue?) {
        let parts = method.flatMap(Self.names) ?? []
        let unqualified = parts.count == 1 || (parts.count == 2 && parts[0] == "pg_catalog")
        guard unqualified, let name = parts.last, ["system", "bernoulli"].contains(name) else {
            let shown = parts.isEmpty ? "This" : parts.joined(separator: ".")
            report(3, .notAllowed("TABLESAMPLE method \(shown)", instead: "use TABLESAMPLE SYSTEM or BERNOULLI"))
            return
        }
    }

    private mutating func checkOperator(_ name: JSONValue?) {
        // OPERATOR(schema.op) can reach an operator (and its function) outside the catalog; plain operators
        // resolve to built-ins first.
        guard let name, let parts = Self.names(name), parts.count > 1, parts[0] != "pg_catalog" else { return }
        report(3, .notAllowed("OPERATOR(\(parts.joined(separator: ".")))", instead: "use the plain built-in operator"))
    }

    private mutating func reportXML(_ op: String?) {
        // IS_XMLPARSE → xmlparse; XML processing is outside what analysts need and what the allowlist covers.
        let name = (op ?? "IS_XML").replacingPrefix("IS_", with: "").lowercased()
        report(4, .functionNotAllowed(name))
    }

    /// The `sval`s of a list of `String` nodes (`[{"String":{"sval":"pg_catalog"}}, …]`); `nil` if it is not one.
    static func names(_ list: JSONValue) -> [String]? {
        guard let items = list.arrayValue else { return nil }
        var parts: [String] = []
        for item in items {
            // An empty identifier is written without its `sval` key.
            guard let string = item["String"], string.objectValue != nil else { return nil }
            parts.append(string["sval"]?.stringValue ?? "")
        }
        return parts
    }
}

extension String {
    fileprivate func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
