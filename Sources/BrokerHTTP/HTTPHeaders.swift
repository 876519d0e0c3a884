// SPDX-License-Identifier: Apache-2.0

import HTTPTypes

/// MCP's HTTP header names.
enum MCPHeader {
    static let sessionID = name("Mcp-Session-Id")
    static let protocolVersion = name("MCP-Protocol-Version")
    static let accelBuffering = name("X-Accel-Buffering")

    // Only called with the literal names above, which are valid tokens; checked once at first use.
    private static func name(_ n: String) -> HTTPField.Name {
        guard let v = HTTPField.Name(n) else { preconditionFailure("invalid header name literal \(n)") }
        return v
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
