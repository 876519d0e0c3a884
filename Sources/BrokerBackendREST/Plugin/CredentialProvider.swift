// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import Synchronization

/// Applies the backend's own credential set to a request (the MCP client's token is never forwarded).
///
/// Secrets are resolved at each use (rotation without restart). OAuth2 client-credentials tokens are fetched
/// from the token endpoint, cached until shortly before they expire, refreshed on a 401, and never logged.
final class CredentialProvider: Sendable {
    let backend: String
    private let tokens = Mutex<[String: (token: Secret, expires: ContinuousClock.Instant)]>([:])

    init(backend: String) { self.backend = backend }

    func rejected(_ detail: String) -> BrokerError {
        BrokerError(
            .backendCredentialsRejected, "The broker's credentials for \(backend) are not available; an administrator must check backends.\(backend).auth.",
            backend: backend, detail: detail)
    }

    func secret(_ ref: SecretReference) throws(BrokerError) -> Secret {
        do { return try ref.resolve() } catch { throw rejected(error.reason) }
    }

    /// Adds the credential's headers or query items.
    func apply(
        _ auth: RESTAuth, headers: inout [(String, String)], query: inout [(String, String)], fetchToken: (RESTAuth) async throws -> Secret
    ) async throws {
        switch auth {
        case .none: break
        case .bearer(let ref): headers.append(("Authorization", try secret(ref).withValue { "Bearer \($0)" }))
        case .basic(let user, let ref):
            let value = try secret(ref).withValue { Data("\(user):\($0)".utf8).base64EncodedString() }
            headers.append(("Authorization", "Basic \(value)"))
        case .apiKey(let name, let inQuery, let ref):
            let value = try secret(ref).withValue { $0 }
            if inQuery { query.append((name, value)) } else { headers.append((name, value)) }
        case .oauth2:
            let token = try await fetchToken(auth)
            headers.append(("Authorization", token.withValue { "Bearer \($0)" }))
        }
    }

    /// A cached, unexpired token for `key`.
    func cachedToken(_ key: String) -> Secret? {
        tokens.withLock { t in
            guard let entry = t[key], entry.expires > .now else { return nil }
            return entry.token
        }
    }

    /// Caches a token until 30 s before it expires.
    func store(_ key: String, token: Secret, expiresIn seconds: Int) {
        let lifetime = Duration.seconds(max(1, seconds - 30))
        tokens.withLock { $0[key] = (token, .now + lifetime) }
    }

    /// Forgets a token the backend refused (refetched on the next attempt).
    func invalidate(_ key: String) { tokens.withLock { $0[key] = nil } }
}
