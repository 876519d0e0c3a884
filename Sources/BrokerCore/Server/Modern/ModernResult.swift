// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// The fields MCP 2026-07-28 adds to every result: `resultType`, the server's identity in `_meta`, and on the
/// cacheable methods `ttlMs` + `cacheScope`.
///
/// Our lists and resource reads are filtered by policy per principal, so they are `private` (a shared cache must
/// not hand one tenant's list to another); `ttlMs` is 0 because a reload can change them at any moment and clients
/// that want to know subscribe through `subscriptions/listen`.
struct ModernResult: Sendable {
    /// Methods whose results are `CacheableResult`s.
    static let cacheable: Set<String> = ["tools/list", "prompts/list", "resources/list", "resources/templates/list", "resources/read"]

    let serverInfo: JSONValue
    /// `,"resultType":"complete","_meta":{serverInfo}` and the cacheable variant, encoded once per server: appended to
    /// results that are already bytes (list pages, relayed backend documents).
    private let plainSuffix: [UInt8]
    private let cacheableSuffix: [UInt8]

    init(serverInfo: JSONValue) {
        self.serverInfo = serverInfo
        let meta = JSONWriter.encode([RequestEnvelope.Key.serverInfo: serverInfo])
        plainSuffix = Array(#","resultType":"complete","_meta":"#.utf8) + meta
        cacheableSuffix = Array(#","resultType":"complete","ttlMs":0,"cacheScope":"private","_meta":"#.utf8) + meta
    }

    /// `result` with the 2026 fields; a `_meta` the result already has (an `isError` result's error details) keeps its keys.
    func decorate(_ result: JSONValue, method: String) -> JSONValue {
        guard case .object(var o) = result else { return result }
        if o["resultType"] == nil { o["resultType"] = "complete" }
        if Self.cacheable.contains(method) {
            o["ttlMs"] = 0
            o["cacheScope"] = "private"
        }
        var meta = o["_meta"]?.objectValue ?? [:]
        meta[RequestEnvelope.Key.serverInfo] = serverInfo
        o["_meta"] = .object(meta)
        return .object(o)
    }

    /// Appends the 2026 fields to an encoded result object that has no `_meta` of its own: the closing brace is
    /// moved behind them. A value that is not an object is left alone.
    func amend(_ out: inout [UInt8], from start: Int, method: String) {
        guard out.count >= start + 2, out[start] == UInt8(ascii: "{"), out.last == UInt8(ascii: "}") else { return }
        out.removeLast()
        let suffix = Self.cacheable.contains(method) ? cacheableSuffix : plainSuffix
        // `{}` takes the fields without their leading comma.
        if out.count == start + 1 { out.append(contentsOf: suffix.dropFirst()) } else { out.append(contentsOf: suffix) }
        out.append(UInt8(ascii: "}"))
    }

    /// An encoded result with the 2026 fields.
    func amended(_ encoded: [UInt8], method: String) -> [UInt8] {
        var out = encoded
        out.reserveCapacity(encoded.count + cacheableSuffix.count)
        amend(&out, from: 0, method: method)
        return out
    }
}
