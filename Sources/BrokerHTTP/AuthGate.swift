// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MCPCore
import NIOCore

/// Authenticates every HTTP request (a session id is never authentication) and turns refusals into RFC 6750
/// answers: 400/401/403 with a `WWW-Authenticate: Bearer` challenge that points at the RFC 9728 Protected
/// Resource Metadata, so an MCP client can discover the authorization server.
struct AuthGate: Sendable {
    let authenticator: any Authenticator
    /// Absolute URL of the metadata document for the MCP path, or `nil` when the broker is no OAuth resource server.
    let metadataURL: String?
    let logger: Logger

    init(authenticator: any Authenticator, settings: HTTPSettings, logger: Logger) {
        self.authenticator = authenticator
        self.logger = logger
        if authenticator.protectedResourceMetadata != nil, let resource = settings.auth?.resource {
            self.metadataURL = Self.metadataURL(resource: resource)
        } else {
            self.metadataURL = nil
        }
    }

    /// RFC 9728 §3.1: the well-known path is inserted between the host and the resource's path.
    static func metadataURL(resource: String) -> String? {
        guard let url = URL(string: resource), let scheme = url.scheme, let host = url.host else { return nil }
        let port = url.port.map { ":\($0)" } ?? ""
        let path = url.path == "/" ? "" : url.path
        return "\(scheme)://\(host)\(port)/.well-known/oauth-protected-resource\(path)"
    }

    func authenticate(_ request: Request) async -> Result<Principal, ResponseError> {
        // OAuth 2.1 forbids tokens in query strings (they end up in proxy and access logs).
        if let query = request.uri.query, query.contains("access_token=") || query.contains("api_key=") {
            return .failure(ResponseError(challenge(.invalidRequest("credentials in the query string are refused; send Authorization: Bearer"))))
        }
        switch await authenticator.authenticate(authorization: request.headers.value(.authorization)) {
        case .success(let principal): return .success(principal)
        case .failure(let refusal): return .failure(ResponseError(challenge(refusal)))
        }
    }

    /// The refusal response: status, `WWW-Authenticate`, and an OAuth-style JSON body.
    func challenge(_ c: AuthChallenge) -> Response {
        var parts = ["realm=\"mcp-broker\""]
        if let metadataURL { parts.append("resource_metadata=\"\(metadataURL)\"") }
        if let error = c.error { parts.append("error=\"\(error)\"") }
        parts.append("error_description=\"\(Self.quoted(c.description))\"")
        if let scope = c.scope, !scope.isEmpty { parts.append("scope=\"\(Self.quoted(scope))\"") }
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]
        headers[.wwwAuthenticate] = "Bearer " + parts.joined(separator: ", ")
        var body: [String: JSONValue] = ["error_description": .string(c.description)]
        body["error"] = .string(c.error ?? "unauthorized")
        let status = HTTPResponse.Status(code: c.status)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONWriter.encode(.object(body)))))
    }

    static func quoted(_ s: String) -> String {
        String(s.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }.map(Character.init))
    }
}
