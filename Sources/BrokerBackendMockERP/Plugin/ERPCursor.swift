// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// Opaque paging cursors: the next offset and a fingerprint of the tool and its filters, sealed through
/// ``CallContext/tokens`` so any replica with the deployment's key continues the search. A cursor therefore only
/// continues the same search, for the same tenant and principal, on this backend, within one hour.
struct ERPCursor {
    static let invalid = BrokerError.invalidArguments("The cursor is not valid for this search; start again without a cursor.")
    static let lifetime: Duration = .seconds(3600)
    /// Longer input is not a cursor we issued.
    static let maxLength = 1024

    static func purpose(_ backend: String) -> String { "mock-erp:\(backend):search cursor v1" }

    /// A stable hash of the tool name and the filter arguments (paging arguments excluded).
    static func fingerprint(tool: String, filters: [String: JSONValue]) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in (tool + JSONValue.object(filters).jsonText).utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return String(h, radix: 16)
    }

    /// A cursor for the page at `offset`; `nil` only if sealing failed (the page then ends the search).
    static func encode(backend: String, context: CallContext, offset: Int, fingerprint: String) -> String? {
        context.tokens.seal(["offset": .int(offset), "search": .string(fingerprint)], purpose: purpose(backend), for: context.principal, ttl: lifetime)
    }

    /// The offset a cursor stands for; 0 without a cursor.
    static func offset(_ cursor: String?, backend: String, context: CallContext, fingerprint: String) throws(BrokerError) -> Int {
        guard let cursor else { return 0 }
        guard let v = context.tokens.open(cursor, purpose: purpose(backend), for: context.principal, maxLength: maxLength),
            v["search"]?.stringValue == fingerprint, let raw = v["offset"]?.intValue, raw >= 0, let offset = Int(exactly: raw)
        else { throw invalid }
        return offset
    }
}
