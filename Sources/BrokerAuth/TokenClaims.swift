// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// Checks the registered claims of a signature-verified token and maps the rest to a ``Principal``.
struct TokenClaims {
    let settings: JWTSettings

    /// - Parameters:
    ///   - claims: the payload object.
    ///   - now: seconds since 1970, for `exp` and `nbf`.
    func principal(from claims: JSONValue, now: Double) -> Result<Principal, AuthChallenge> {
        let skew = Double(settings.clockSkewSeconds)
        guard claims["iss"]?.stringValue == settings.issuer else { return .failure(.invalidToken("token issuer is not trusted")) }
        guard audiences(claims["aud"]).contains(settings.audience) else {
            return .failure(.invalidToken("token audience does not match this resource"))
        }
        // An access token without expiry would be valid forever once leaked.
        guard let exp = claims["exp"]?.doubleValue else { return .failure(.invalidToken("token has no expiry")) }
        guard exp + skew > now else { return .failure(.invalidToken("token expired")) }
        if let nbfValue = claims["nbf"] {
            guard let nbf = nbfValue.doubleValue else { return .failure(.invalidToken("token nbf is not a number")) }
            guard nbf - skew <= now else { return .failure(.invalidToken("token is not valid yet")) }
        }

        let principal: Principal
        switch mapPrincipal(claims) {
        case .success(let p): principal = p
        case .failure(let c): return .failure(c)
        }
        // Scopes last: a 403 tells the client its token is fine but too narrow, so everything else must pass first.
        let granted = scopes(claims["scope"]).union(scopes(claims["scp"]))
        guard settings.requiredScopes.allSatisfy(granted.contains) else {
            return .failure(
                AuthChallenge(
                    status: 403, error: "insufficient_scope", description: "token lacks a required scope",
                    scope: settings.requiredScopes.joined(separator: " ")))
        }
        return .success(principal)
    }

    private func mapPrincipal(_ claims: JSONValue) -> Result<Principal, AuthChallenge> {
        let map = settings.claims
        guard let id = claims[map.principal]?.stringValue, (1...256).contains(id.count) else {
            return .failure(.invalidToken("token carries no valid principal"))
        }
        guard let tenantValue = claims[map.tenant], !tenantValue.isNull else {
            return .failure(.invalidToken("token carries no tenant"))
        }
        // The tenant selects a data partition, so it must be a plain short name, not arbitrary text.
        guard let tenant = tenantValue.stringValue, (1...64).contains(tenant.count),
            !tenant.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { return .failure(.invalidToken("token tenant is not valid")) }
        let roles: Set<String>
        switch claims[map.roles] {
        case nil, .null?: roles = []
        case .string(let s)?: roles = Set(s.split(separator: " ").map(String.init))
        case .array(let items)?:
            let names = items.compactMap(\.stringValue)
            guard names.count == items.count else { return .failure(.invalidToken("token roles are not valid")) }
            roles = Set(names)
        case _?: return .failure(.invalidToken("token roles are not valid"))
        }
        var attributes: [String: String] = [:]
        for (name, claim) in map.attributes {
            if let text = Self.text(claims[claim]) { attributes[name] = text }
        }
        return .success(Principal(id: id, tenant: tenant, roles: roles, attributes: attributes))
    }

    /// `aud` is one string or an array of strings (RFC 7519 §4.1.3).
    private func audiences(_ value: JSONValue?) -> [String] {
        switch value {
        case .string(let s)?: return [s]
        case .array(let items)?: return items.compactMap(\.stringValue)
        default: return []
        }
    }

    /// `scope` is space-separated (RFC 8693 §4.2); `scp` is an array at most issuers and a string at some.
    private func scopes(_ value: JSONValue?) -> Set<String> {
        switch value {
        case .string(let s)?: return Set(s.split(separator: " ").map(String.init))
        case .array(let items)?: return Set(items.compactMap(\.stringValue))
        default: return []
        }
    }

    /// A scalar claim as attribute text; arrays, objects and null have no single text and are skipped.
    private static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        case .double(let d)?: return d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .bool(let b)?: return b ? "true" : "false"
        default: return nil
        }
    }
}
