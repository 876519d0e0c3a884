// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// The ERP searches' paging cursors (``SearchCursor``): the fingerprint covers the tool and its filters, so a cursor
/// only continues the same search, for the same tenant and principal, on this backend, within one hour.
enum ERPCursor {
    static let invalid = BrokerError.invalidArguments("The cursor is not valid for this search; start again without a cursor.")

    /// This backend's cursors.
    static func cursors(_ backend: String) -> SearchCursor { SearchCursor(purpose: "mock-erp:\(backend):search cursor v1", maxLength: 1024) }

    /// A stable hash of the tool name and the filter arguments (paging arguments excluded).
    static func fingerprint(tool: String, filters: [String: JSONValue]) -> String {
        SearchCursor.fingerprint(tool + JSONValue.object(filters).jsonText)
    }

    /// A cursor for the page at `offset`; `nil` only if sealing failed (the page then ends the search).
    static func encode(backend: String, context: CallContext, offset: Int, fingerprint: String) -> String? {
        cursors(backend).encode(offset: offset, search: fingerprint, context: context)
    }

    /// The offset a cursor stands for; 0 without a cursor.
    static func offset(_ cursor: String?, backend: String, context: CallContext, fingerprint: String) throws(BrokerError) -> Int {
        guard let cursor else { return 0 }
        guard let offset = cursors(backend).offset(cursor, search: fingerprint, context: context) else { throw invalid }
        return offset
    }
}
