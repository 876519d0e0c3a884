// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore

extension RESTBackend {
    /// The token cache key: the tenant, whose credential set (its own or the shared one), and every part of the
    /// client-credentials grant, so one tenant's token can never be presented for another tenant's call, even
    /// when two tenants are configured with the same OAuth client. Parts are separated by NUL, which none of them
    /// can contain.
    func tokenKey(_ auth: RESTAuth, tenant: String) -> String {
        guard case .oauth2(let url, let id, let secret, let scope) = auth else { return "" }
        let set = configuration.tenantAuth[tenant] != nil ? "tenant" : "shared"
        return [tenant, set, url, id, secret.description, scope ?? ""].joined(separator: "\u{0}")
    }

    /// An OAuth2 client-credentials access token: cached until shortly before expiry, fetched when missing.
    func token(_ auth: RESTAuth, address: String, context: CallContext) async throws -> Secret {
        guard case .oauth2(let tokenURL, let clientID, let secretRef, let scope) = auth else { throw credentials.rejected("not oauth2") }
        let key = tokenKey(auth, tenant: context.principal.tenant)
        if let cached = credentials.cachedToken(key) { return cached }
        guard let components = URLComponents(string: tokenURL), let host = components.host?.lowercased(),
            let scheme = components.scheme?.lowercased(), scheme == "https" || (scheme == "http" && configuration.isInternal)
        else { throw credentials.rejected("token_url \(tokenURL) is not an allowed URL") }
        let tokenAddress = host == configuration.host ? address : try await addressGuard.resolve(host: host, backend: name)
        let secret = try credentials.secret(secretRef)
        let basic = secret.withValue { Data("\(clientID):\($0)".utf8).base64EncodedString() }
        var form = "grant_type=client_credentials"
        if let scope { form += "&scope=" + RESTOperation.percentEncode(scope) }
        var request = CurlRequest(
            method: "POST", url: tokenURL,
            headers: [("Authorization", "Basic \(basic)"), ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
            body: Array(form.utf8))
        request.connectTimeout = min(configuration.connectTimeout, context.remaining)
        request.timeout = min(configuration.timeout, context.remaining)
        request.maxBodyBytes = 64 * 1024
        request.pinnedAddress = tokenAddress
        request.allowedProtocols = configuration.isInternal ? "http,https" : "https"
        let response: CurlResponse
        do { response = try await tracedPerform(request, template: components.path) } catch { throw map(error) }
        guard response.status == 200,
            let document = try? JSONParser.parse(response.body, limits: .init(maxDepth: 8, rejectNUL: true)),
            let accessToken = document["access_token"]?.stringValue, !accessToken.isEmpty
        else {
            // The token endpoint's body may echo credentials: keep only the status.
            throw BrokerError(
                .backendCredentialsRejected, "The \(name) token endpoint refused the broker's client credentials; an administrator must check backends.\(name).auth.",
                backend: name, detail: "token endpoint status \(response.status)")
        }
        let token = Secret(accessToken)
        credentials.store(key, token: token, expiresIn: CredentialProvider.tokenLifetime(document["expires_in"]))
        return token
    }
}

/// RFC 8288 `Link` header handling for pagination.
enum LinkHeader {
    /// The target of `rel="next"`, if any.
    static func next(_ header: String) -> String? {
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let target = pieces.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
            if pieces.dropFirst().contains(where: { $0.replacingOccurrences(of: " ", with: "").lowercased() == "rel=\"next\"" || $0.lowercased() == "rel=next" }) {
                return String(target.dropFirst().dropLast())
            }
        }
        return nil
    }

    /// The path (below the base path) and query of a next link, only when it points at the same host and port.
    static func sameHostTarget(_ link: String, host: String, port: Int, prefix: String) -> (path: String, query: [(String, String)])? {
        guard let c = URLComponents(string: link) else { return nil }
        if let h = c.host {
            let defaultPort = c.scheme == "https" ? 443 : 80
            guard h.lowercased() == host, (c.port ?? defaultPort) == port else { return nil }
        }
        var path = c.path
        if !prefix.isEmpty {
            guard path.hasPrefix(prefix) else { return nil }
            path = String(path.dropFirst(prefix.count))
        }
        let query = (c.queryItems ?? []).map { ($0.name, $0.value ?? "") }
        return (path, query)
    }
}
