// SPDX-License-Identifier: Apache-2.0

import HTTPTypes

/// MCP's HTTP header names.
enum MCPHeader {
    static let sessionID = name("Mcp-Session-Id")
    static let protocolVersion = name("MCP-Protocol-Version")
    static let accelBuffering = name("X-Accel-Buffering")
    /// 2026-07-28 routing headers, mirrored from the body.
    static let mcpMethod = name("Mcp-Method")
    static let mcpName = name("Mcp-Name")
    /// W3C Trace Context.
    static let traceparent = name("traceparent")
    static let tracestate = name("tracestate")

    // Only called with the literal names above, which are valid tokens; checked once at first use.
    private static func name(_ n: String) -> HTTPField.Name {
        guard let v = HTTPField.Name(n) else { preconditionFailure("invalid header name literal \(n)") }
        return v
    }
}

/// Case-insensitive matching of ASCII header values, byte by byte: with Foundation imported, `String.contains`
/// goes through CFString, and `lowercased()` allocates; both showed in per-request profiles.
enum HeaderMatch {
    /// Whether `value` contains `needle` (given in lowercase), ignoring ASCII case.
    static func contains(_ value: String, _ needle: StaticString) -> Bool {
        let n = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        var v = value
        return v.withUTF8 { bytes in
            guard n.count <= bytes.count else { return false }
            guard n.count > 0 else { return true }
            for start in 0...(bytes.count - n.count) where matches(bytes, at: start, n) { return true }
            return false
        }
    }

    /// Whether `value` starts with `prefix` (given in lowercase), ignoring ASCII case.
    static func hasPrefix(_ value: String, _ prefix: StaticString) -> Bool {
        let n = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        var v = value
        return v.withUTF8 { bytes in n.count <= bytes.count && matches(bytes, at: 0, n) }
    }

    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, _ needle: UnsafeBufferPointer<UInt8>) -> Bool {
        for i in 0..<needle.count {
            let b = bytes[start + i]
            let lower = b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b
            if lower != needle[i] { return false }
        }
        return true
    }
}

/// The Origin allowlist (DNS-rebinding guard).
struct OriginPolicy: Sendable {
    let allowed: Set<String>

    init(_ origins: [String]) {
        allowed = Set(origins.map { $0.lowercased().trimmingSuffix("/") })
    }

    /// A request without `Origin` (not a browser) is allowed; a present one must be listed exactly.
    func permits(_ origin: String?) -> Bool {
        guard let origin else { return true }
        if allowed.contains("*") { return true }
        let o = origin.lowercased().trimmingSuffix("/")
        if allowed.contains(o) { return true }
        // Allow any port on an allowed scheme://host (local development servers pick ports freely).
        if let colon = o.lastIndex(of: ":"), o[o.index(after: colon)...].allSatisfy(\.isNumber), o[..<colon].contains("//") {
            return allowed.contains(String(o[..<colon]))
        }
        return false
    }
}

extension String {
    fileprivate func trimmingSuffix(_ s: String) -> String { hasSuffix(s) ? String(dropLast(s.count)) : self }
}

extension HTTPFields {
    /// The same string as `self[name]` (several fields joined by ", ", cookies by "; "), read in one plain pass.
    ///
    /// Why: swift-http-types joins through a lazy generic sequence whose type metadata is looked up at run time on
    /// every read; callgrind counted ~4,900 instructions per read and six reads per call, 5 % of a small tool call.
    func value(_ name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            if let earlier = found {
                found = earlier + (name == .cookie ? "; " : ", ") + field.value
            } else {
                found = field.value
            }
        }
        return found
    }
}
