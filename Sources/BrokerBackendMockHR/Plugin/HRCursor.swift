// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// Opaque paging cursors: the next offset and a hash of the search's filters, sealed through ``CallContext/tokens``
/// so any replica with the deployment's key continues the search.
///
/// A cursor opens only for the tenant and principal that searched, for this backend, for one hour, and for the
/// same filters: another tenant's or principal's, another search's, an expired or an altered cursor is refused
/// rather than silently paging through different data.
enum HRCursor {
    static let invalid = BrokerError.invalidArguments("The cursor is not valid for this search; start again without a cursor.")
    static let lifetime: Duration = .seconds(3600)
    /// Longer input is not a cursor we issued (the tool schema allows this much).
    static let maxLength = 300

    static func purpose(_ backend: String) -> String { "mock-hr:\(backend):search cursor v1" }

    /// A cursor for the page at `offset`; `nil` only if sealing failed (the page then ends the search).
    static func encode(backend: String, context: CallContext, offset: Int, filters: JSONValue) -> String? {
        context.tokens.seal(["offset": .int(offset), "filters": .string(hash(filters))], purpose: purpose(backend), for: context.principal, ttl: lifetime)
    }

    /// The offset a cursor points at.
    /// - Throws: `invalid_arguments` when the cursor does not open for this caller, backend and search.
    static func decode(_ cursor: String, backend: String, context: CallContext, filters: JSONValue) throws -> Int {
        guard let v = context.tokens.open(cursor, purpose: purpose(backend), for: context.principal, maxLength: maxLength),
            v["filters"]?.stringValue == hash(filters), let raw = v["offset"]?.intValue, raw >= 0, let offset = Int(exactly: raw)
        else { throw invalid }
        return offset
    }

    /// FNV-1a of the filters' canonical JSON text (keys sorted), in hex.
    static func hash(_ filters: JSONValue) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in filters.jsonText.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return String(h, radix: 16)
    }
}
