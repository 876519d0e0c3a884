// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// The HR search's paging cursors (``SearchCursor``): bound to the caller, this backend, one hour and the same
/// filters, so a cursor is refused rather than silently paging through different data.
enum HRCursor {
    static let invalid = BrokerError.invalidArguments("The cursor is not valid for this search; start again without a cursor.")

    /// This backend's cursors; 300 characters is what the tool schema allows.
    static func cursors(_ backend: String) -> SearchCursor { SearchCursor(purpose: "mock-hr:\(backend):search cursor v1", maxLength: 300) }

    /// A cursor for the page at `offset`; `nil` only if sealing failed (the page then ends the search).
    static func encode(backend: String, context: CallContext, offset: Int, filters: JSONValue) -> String? {
        cursors(backend).encode(offset: offset, search: SearchCursor.fingerprint(filters.jsonText), context: context)
    }

    /// The offset a cursor points at.
    /// - Throws: `invalid_arguments` when the cursor does not open for this caller, backend and search.
    static func decode(_ cursor: String, backend: String, context: CallContext, filters: JSONValue) throws -> Int {
        guard let offset = cursors(backend).offset(cursor, search: SearchCursor.fingerprint(filters.jsonText), context: context) else { throw invalid }
        return offset
    }
}
