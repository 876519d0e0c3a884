// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// Why a request was not authenticated, in the terms of RFC 6750 §3 so the HTTP transport can build the
/// `WWW-Authenticate` challenge from it.
public struct AuthChallenge: Error, Sendable, Equatable {
    /// HTTP status: 400 (`invalid_request`), 401 (`invalid_token` or no credentials), 403 (`insufficient_scope`).
    public var status: Int
    /// RFC 6750 error code; `nil` when no credentials were presented at all (RFC 6750 §3.1: no error code then).
    public var error: String?
    /// A short, safe description for the client. Never contains the token or key.
    public var description: String
    /// Scopes the resource needs, for `insufficient_scope` and for clients that request a token.
    public var scope: String?

    public init(status: Int, error: String?, description: String, scope: String? = nil) {
        self.status = status
        self.error = error
        self.description = description
        self.scope = scope
    }

    /// No `Authorization` header.
    public static func missing(scope: String? = nil) -> AuthChallenge {
        AuthChallenge(status: 401, error: nil, description: "authentication required: send Authorization: Bearer <token or API key>", scope: scope)
    }

    /// A token or key that is malformed, expired, for another audience, badly signed or unknown.
    public static func invalidToken(_ description: String) -> AuthChallenge {
        AuthChallenge(status: 401, error: "invalid_token", description: description)
    }

    /// A request the resource server refuses to read (token in a query string, two credentials, …).
    public static func invalidRequest(_ description: String) -> AuthChallenge {
        AuthChallenge(status: 400, error: "invalid_request", description: description)
    }
}

/// Verifies the credentials of one HTTP request and yields the principal they stand for.
///
/// Implemented by the `BrokerAuth` target (API keys, JWT bearer tokens); the HTTP transport only sees this
/// protocol, so neither it nor the backends depend on the JWT library.
public protocol Authenticator: Sendable {
    /// Authenticates one request.
    /// - Parameter authorization: the `Authorization` header value, or `nil` when absent.
    /// - Returns: the verified principal, or the challenge to answer with.
    func authenticate(authorization: String?) async -> Result<Principal, AuthChallenge>

    /// The RFC 9728 Protected Resource Metadata document, or `nil` when the broker is no OAuth resource server
    /// (API keys only).
    var protectedResourceMetadata: JSONValue? { get }
}

/// Authenticates everyone as one configured principal: local development on loopback only (the configuration
/// refuses it on any other address).
public struct FixedPrincipalAuthenticator: Authenticator {
    public let principal: Principal

    public init(_ principal: Principal) { self.principal = principal }

    public func authenticate(authorization: String?) async -> Result<Principal, AuthChallenge> { .success(principal) }

    public var protectedResourceMetadata: JSONValue? { nil }
}
