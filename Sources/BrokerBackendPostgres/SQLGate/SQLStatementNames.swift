// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// Turns a libpg_query statement node name into the SQL keyword an analyst recognises (`DeleteStmt` → `DELETE`).
enum SQLStatementNames {
    /// The SQL name of a statement node, e.g. `TransactionStmt` with kind `TRANS_STMT_COMMIT` → `COMMIT`.
    static func name(of node: String, body: JSONValue) -> String {
        switch node {
        case "TransactionStmt":
            let kind = (body["kind"]?.stringValue ?? "TRANS_STMT_TRANSACTION").dropPrefix("TRANS_STMT_")
            return kind == "START" ? "START TRANSACTION" : kind.replacingUnderscores()
        case "VariableSetStmt":
            return body["kind"]?.stringValue == "VAR_RESET" || body["kind"]?.stringValue == "VAR_RESET_ALL"
                ? "RESET" : "SET"
        case "VariableShowStmt": return "SHOW"
        case "VacuumStmt": return body["is_vacuumcmd"]?.boolValue == true ? "VACUUM" : "ANALYZE"
        case "ClosePortalStmt": return "CLOSE"
        case "FetchStmt": return body["ismove"]?.boolValue == true ? "MOVE" : "FETCH"
        case "CheckPointStmt": return "CHECKPOINT"
        case "CreateStmt": return "CREATE TABLE"
        case "RefreshMatViewStmt": return "REFRESH MATERIALIZED VIEW"
        case "GrantStmt": return body["is_grant"]?.boolValue == true ? "GRANT" : "REVOKE"
        default: return words(of: node)
        }
    }

    /// `AlterTableStmt` → `ALTER TABLE`: the node names follow the SQL keywords closely enough for a message.
    private static func words(of node: String) -> String {
        let base = node.hasSuffix("Stmt") ? String(node.dropLast(4)) : node
        var out = ""
        for character in base {
            if character.isUppercase, !out.isEmpty { out.append(" ") }
            out.append(character)
        }
        return out.isEmpty ? "non-SELECT" : out.uppercased()
    }
}

extension String {
    fileprivate func dropPrefix(_ prefix: String) -> String {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
    }

    fileprivate func replacingUnderscores() -> String {
        String(map { $0 == "_" ? " " : $0 })
    }
}
