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

    /// The longest a token is cached, whatever the endpoint claims: a day.
    static let maxTokenLifetime = 86_400
    /// The lifetime assumed when `expires_in` is absent or unusable (RFC 6749 makes it optional).
    static let defaultTokenLifetime = 300

    /// A token endpoint's `expires_in` in whole seconds, within `0...maxTokenLifetime`.
    ///
    /// The value comes from outside and is only a hint, so nothing about it may trap: a huge or negative integer, a
    /// fraction, `1e308` or a string all map to a bounded number (non-numbers to the default) before any arithmetic.
    static func tokenLifetime(_ value: JSONValue?) -> Int {
        switch value {
        case .int(let seconds): return Int(min(max(seconds, 0), Int64(maxTokenLifetime)))
        case .double(let seconds) where seconds.isFinite: return Int(min(max(seconds, 0), Double(maxTokenLifetime)).rounded(.down))
        default: return defaultTokenLifetime
        }
    }

    /// Caches a token until 30 s before it expires (half its life when that is shorter; not at all when it has
    /// none). `seconds` must be a ``tokenLifetime(_:)`` result, so the arithmetic here cannot overflow.
    func store(_ key: String, token: Secret, expiresIn seconds: Int) {
        guard seconds > 0 else { return }
        let lifetime = Duration.seconds(seconds > 60 ? seconds - 30 : max(1, seconds / 2))
        tokens.withLock { $0[key] = (token, .now + lifetime) }
    }

    /// Forgets a token the backend refused (refetched on the next attempt).
    func invalidate(_ key: String) { tokens.withLock { $0[key] = nil } }
}
