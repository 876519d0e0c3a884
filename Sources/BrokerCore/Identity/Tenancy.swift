// SPDX-License-Identifier: Apache-2.0

import Yams

/// Which tenants the broker serves, and the checks that keep every other tenant out.
///
/// A verified token only proves who the identity provider says the caller is; an IdP shared with other
/// customers (or a misconfigured claim mapping) can mint perfectly valid tokens for a tenant this broker was
/// never set up for. Such a caller must not get a principal at all, because every backend would otherwise have
/// to decide on its own what an unknown tenant means, and one that falls back to a default partition or a
/// default credential set leaks another tenant's data.
public enum Tenancy {
    /// The longest tenant text echoed back in a message (tenants from tokens are caller-influenced).
    static let echoLimit = 64

    /// A tenant name for a message: printable ASCII only, at most ``echoLimit`` characters, "…" when cut, so a
    /// hostile tenant claim can neither inject control text into a header or log nor make a message unbounded.
    public static func printable(_ tenant: String) -> String {
        var out = ""
        var count = 0
        for scalar in tenant.unicodeScalars {
            guard count < echoLimit else { return out + "…" }
            out.unicodeScalars.append(scalar.value >= 0x20 && scalar.value < 0x7F && scalar != "'" && scalar != "\"" && scalar != "\\" ? scalar : "?")
            count += 1
        }
        return out
    }

    /// The refusal for an authenticated identity whose tenant the broker does not serve: 403, so a client does
    /// not retry with a fresh token of the same tenant, and no RFC 6750 code that would trigger step-up
    /// authorization (`insufficient_scope`) — more scopes cannot help.
    public static func notServed(_ tenant: String) -> AuthChallenge {
        AuthChallenge(status: 403, error: "access_denied", description: "tenant '\(printable(tenant))' is not served by this broker")
    }
}

extension BrokerConfiguration {
    /// The tenants this configuration serves: `server.tenants` when given, else every tenant the configuration
    /// names — API keys, the configured stdio (and development HTTP) principal, and each backend's `tenants` (map
    /// keys or a list) and `system.tenants` (the mock kinds).
    ///
    /// The backend scan is generic (it reads the raw sections without marking keys as read), so a new backend
    /// kind that keys its credentials by tenant is covered without code here.
    public var declaredTenants: Set<String> {
        if let explicit = server.tenants { return Set(explicit) }
        // The built-in default principals' tenant ("default") is named by nobody: it must not become servable.
        var out: Set<String> = []
        if server.stdioPrincipalConfigured { out.insert(server.stdioPrincipal.tenant) }
        if server.http.auth == nil && server.http.principalConfigured { out.insert(server.http.principal.tenant) }
        for key in server.http.auth?.apiKeys ?? [] { out.insert(key.principal.tenant) }
        for backend in backends {
            out.formUnion(Self.tenantNames(in: backend.settings, key: "tenants"))
            if let system = backend.settings.entries.first(where: { $0.key == "system" }), case .mapping(let m) = system.value {
                for (k, v) in m where k.string == "tenants" { out.formUnion(Self.names(v)) }
            }
        }
        return out
    }

    /// The tenant names under `key` of `node`: the keys of a mapping or the strings of a list.
    static func tenantNames(in node: ConfigNode, key: String) -> Set<String> {
        guard let entry = node.entries.first(where: { $0.key == key }) else { return [] }
        return names(entry.value)
    }

    private static func names(_ value: Node) -> Set<String> {
        switch value {
        case .mapping(let m): return Set(m.compactMap { $0.key.string })
        case .sequence(let s): return Set(s.compactMap { $0.string })
        default: return []
        }
    }

    /// Records the served tenants where authentication reads them; called once every file is merged.
    mutating func finishTenancy() {
        let tenants = declaredTenants
        server.http.auth?.tenants = tenants
        server.servedTenants = tenants
    }
}

extension BrokerConfiguration {
    /// Reads `server.tenants` and checks that the configured principals belong to a served tenant: a stdio
    /// principal of an undeclared tenant would be a tenant nobody provisioned a backend for.
    static func readTenants(_ s: ConfigNode, into out: inout ServerSettings) throws(ConfigError) {
        guard s.has("tenants") else { return }
        let list = try s.stringList("tenants")
        guard !list.isEmpty else { throw s.error("tenants", "must name at least one tenant (or leave it out to derive the list)") }
        for t in list where t.isEmpty || t.count > 64 || t.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) {
            throw s.error("tenants", "'\(Tenancy.printable(t))' is not a tenant name (1-64 characters, no spaces or controls)")
        }
        guard Set(list).count == list.count else { throw s.error("tenants", "lists a tenant twice") }
        out.tenants = list
        let served = Set(list)
        if !served.contains(out.stdioPrincipal.tenant) {
            throw s.error("stdio", "the stdio principal's tenant '\(out.stdioPrincipal.tenant)' is not in server.tenants \(list); set server.stdio.principal to a served tenant")
        }
        if out.http.auth == nil, !served.contains(out.http.principal.tenant) {
            throw s.error("http", "the development principal's tenant '\(out.http.principal.tenant)' is not in server.tenants \(list); set http.principal or http.auth")
        }
    }
}
