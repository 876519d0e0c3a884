// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// The opaque `next_cursor` of a truncated result: the query, its bound parameters and the next offset, sealed
/// (``SealedTokens``, through ``CallContext/tokens``) so any replica holding the deployment's key continues it.
///
/// A cursor opens only for the tenant and principal that ran the query (the token's binding), for this backend
/// (its purpose names the backend, so one warehouse's gated SQL never runs on another's) and the same tool, and
/// for ten minutes. Anyone else's, an expired, an altered or a made-up cursor are all simply unknown. What a cursor
/// may carry is capped: the SQL up to the longest the backend accepts (analyst `max_sql_bytes`, or the longest
/// named query) and 16 KiB of parameters; a page whose continuation would not fit gets no cursor and is told to
/// narrow the query.
struct ResultCursors: Sendable {
    struct Page: Sendable {
        let sql: String
        let parameters: [String?]
        let offset: Int
    }

    /// The token purpose: backend and format.
    let purpose: String
    let maxSQLBytes: Int
    let lifetime: Duration

    /// Cursors of backend `backend`, carrying SQL of at most `maxSQLBytes`.
    init(backend: String, maxSQLBytes: Int, lifetime: Duration = .seconds(600)) {
        self.purpose = "postgres:\(backend):cursor v1"
        self.maxSQLBytes = min(max(0, maxSQLBytes), 1 << 24)
        self.lifetime = lifetime
    }

    /// The most a cursor's JSON may take: the SQL with room for escaping, 16 KiB of parameters and the field names.
    var maxPayloadBytes: Int { 2 * maxSQLBytes + 16 * 1024 + 256 }

    /// The longest cursor a client may send back (the input schemas' `maxLength`).
    var maxTokenLength: Int { SealedTokens.tokenLength(payloadBytes: maxPayloadBytes) }

    /// The cursor for the page at `offset`, or `nil` when the query is too long to carry (the caller says to narrow it).
    func issue(tool: String, context: CallContext, sql: String, parameters: [String?], offset: Int) -> String? {
        guard sql.utf8.count <= maxSQLBytes else { return nil }
        let payload: JSONValue = [
            "tool": .string(tool), "sql": .string(sql), "parameters": .array(parameters.map { $0.map(JSONValue.string) ?? .null }),
            "offset": .int(Int64(offset)),
        ]
        return context.tokens.seal(payload, purpose: purpose, for: context.principal, ttl: lifetime, maxPayloadBytes: maxPayloadBytes)
    }

    /// The page behind a cursor, if this caller may continue it with this tool.
    func redeem(_ cursor: String, tool: String, context: CallContext) -> Page? {
        guard let v = context.tokens.open(cursor, purpose: purpose, for: context.principal, maxLength: maxTokenLength), v["tool"]?.stringValue == tool,
            let sql = v["sql"]?.stringValue, let raw = v["parameters"]?.arrayValue, let offset = v["offset"]?.intValue, offset >= 0,
            let offset = Int(exactly: offset)
        else { return nil }
        var parameters: [String?] = []
        for p in raw {
            if p.isNull {
                parameters.append(nil)
            } else if let s = p.stringValue {
                parameters.append(s)
            } else {
                return nil
            }
        }
        return Page(sql: sql, parameters: parameters, offset: offset)
    }
}
