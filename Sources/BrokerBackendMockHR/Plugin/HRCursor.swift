// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore

/// Opaque paging cursors bound to the tenant and the filters of the search that produced them.
///
/// Format before base64: `hr1|<tenant>|<offset>|<filter hash>`. A cursor from another tenant or another search
/// is refused rather than silently paging through different data.
enum HRCursor {
    static let invalid = BrokerError.invalidArguments("The cursor is not valid for this search; start again without a cursor.")

    static func encode(tenant: String, offset: Int, filters: JSONValue) -> String {
        Data("hr1|\(tenant)|\(offset)|\(hash(filters))".utf8).base64EncodedString()
    }

    /// The offset a cursor points at.
    /// - Throws: `invalid_arguments` when the cursor does not decode or belongs to another tenant or search.
    static func decode(_ cursor: String, tenant: String, filters: JSONValue) throws -> Int {
        guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8) else { throw invalid }
        let parts = text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0] == "hr1", parts[1] == tenant, parts[3] == hash(filters), let offset = Int(parts[2]), offset >= 0
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
