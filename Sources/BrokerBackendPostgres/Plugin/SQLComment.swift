// SPDX-License-Identifier: Apache-2.0

import BrokerCore

/// A sqlcommenter comment (https://google.github.io/sqlcommenter/spec/) carrying the call's W3C trace context, so
/// a DBA who finds a slow statement in `pg_stat_activity` or the server log can find the MCP call behind it.
///
/// Keys are sorted, values URL-encoded and single-quoted: `/*application='mcp-broker',traceparent='00-…-01'*/`.
/// The comment goes on its own line at the end of the statement: a trailing `-- remark` in analyst SQL ends at
/// that line break and cannot swallow it, and every statement we send has passed libpg_query, so no block comment
/// is left open. (The spec leaves statements that already hold a comment alone; ours may, and the link matters
/// more, which the parse makes safe.)
struct SQLComment: Sendable, Equatable {
    /// `\n/*…*/`, to append to each statement; empty when there is no trace context.
    let suffix: String

    init(_ ids: TraceParent?) {
        guard let ids else {
            suffix = ""
            return
        }
        var pairs = [("application", "mcp-broker"), ("traceparent", ids.header)]
        if let state = ids.traceState { pairs.append(("tracestate", state)) }
        suffix = "\n/*" + pairs.map { "\($0)='\(Self.encode($1))'" }.joined(separator: ",") + "*/"
    }

    /// `sql` with the comment after it.
    func tag(_ sql: String) -> String { suffix.isEmpty ? sql : sql + suffix }

    /// Percent-encoding of everything but RFC 3986 unreserved characters: quotes, `*` and `/` never reach the
    /// comment, so a value cannot end it or the string literal around it.
    static func encode(_ value: String) -> String { PercentEncoding.unreserved(value) }

    /// `db.operation.name`: the statement's leading keyword when it is a known one (never free text).
    static func operationName(_ sql: String) -> String? {
        let word = sql.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == "(" }.prefix { $0.isLetter }.prefix(8).uppercased()
        return ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "MERGE", "CALL", "VALUES", "TABLE"].contains(word) ? word : nil
    }
}
