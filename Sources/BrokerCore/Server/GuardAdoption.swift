// SPDX-License-Identifier: Apache-2.0

/// Which backend guards a new server takes over from the one it replaces on a reload.
///
/// A guard holds live state (breaker window, bulkhead queue, cache entries, rate share): a backend whose
/// configuration did not change keeps it, so a reload neither resets an open breaker nor drops a warm cache.
public struct GuardAdoption: Sendable {
    /// The server being replaced.
    public let server: MCPServer
    /// Names of the backends whose section is unchanged.
    public let backends: Set<String>

    public init(server: MCPServer, backends: Set<String>) {
        self.server = server
        self.backends = backends
    }

    /// The adopted guards by backend name.
    var guards: [String: BackendGuard] {
        var out: [String: BackendGuard] = [:]
        for name in backends { if let g = server.guards.backend(named: name) { out[name] = g } }
        return out
    }

    /// Whether `other`'s guard for `backend` is the very instance `server` holds (tests).
    public static func sameGuard(_ a: MCPServer, _ b: MCPServer, backend: String) -> Bool {
        guard let x = a.guards.backend(named: backend), let y = b.guards.backend(named: backend) else { return false }
        return x === y
    }
}
