// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore

/// Opaque paging cursors: base64 of `tenant|offset|fingerprint`, where the fingerprint hashes the tool and its
/// filters. A cursor therefore only continues the same search, for the same tenant.
struct ERPCursor {
    static let invalid = BrokerError.invalidArguments("The cursor is not valid for this search; start again without a cursor.")

    /// A stable hash of the tool name and the filter arguments (paging arguments excluded).
    static func fingerprint(tool: String, filters: [String: JSONValue]) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in (tool + JSONValue.object(filters).jsonText).utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return String(h, radix: 16)
    }

    static func encode(tenant: String, offset: Int, fingerprint: String) -> String {
        Data("\(tenant)|\(offset)|\(fingerprint)".utf8).base64EncodedString()
    }

    /// The offset a cursor stands for; 0 without a cursor.
    static func offset(_ cursor: String?, tenant: String, fingerprint: String) throws(BrokerError) -> Int {
        guard let cursor else { return 0 }
        guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8) else { throw invalid }
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        // The tenant may itself contain "|", so the offset and fingerprint are read from the end.
        guard parts.count >= 3, let offset = Int(parts[parts.count - 2]), offset >= 0,
            parts[parts.count - 1] == fingerprint, parts.dropLast(2).joined(separator: "|") == tenant
        else { throw invalid }
        return offset
    }
}
