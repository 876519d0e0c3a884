// SPDX-License-Identifier: Apache-2.0

import Foundation
import MCPCore

/// Opaque list cursors: base64 of `<list>:<offset>`, so a cursor from `tools/list` is refused by `prompts/list`.
enum ListCursor {
    static func encode(list: String, offset: Int) -> String {
        Data("\(list):\(offset)".utf8).base64EncodedString()
    }

    static func decode(_ cursor: String, list: String, count: Int) -> Int? {
        guard cursor.utf8.count <= 64, let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == list, let offset = Int(parts[1]), offset > 0, offset < count else { return nil }
        return offset
    }

    /// One page of `items` under `key`, with `nextCursor` when more remain.
    static func page(_ items: [JSONValue], key: String, list: String, params: [String: JSONValue], pageSize: Int) -> Result<JSONValue, RPCError> {
        var start = 0
        if let raw = params["cursor"] {
            guard let c = raw.stringValue, let offset = decode(c, list: list, count: items.count) else {
                return .failure(.invalidParams("Invalid cursor: start the listing again without a cursor"))
            }
            start = offset
        }
        let end = min(start + pageSize, items.count)
        var result: [String: JSONValue] = [key: .array(Array(items[start..<end]))]
        if end < items.count { result["nextCursor"] = .string(encode(list: list, offset: end)) }
        return .success(.object(result))
    }
}
