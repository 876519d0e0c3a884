// SPDX-License-Identifier: Apache-2.0

import Foundation
import Hummingbird
import MCPCore

/// The credentials the demo accepts, read from the environment. A kind whose variables are unset is disabled.
struct CRMCredentials: Sendable {
    /// `CRM_BEARER_TOKEN`: a static bearer token.
    var bearerToken: String?
    /// `CRM_BASIC_USER` / `CRM_BASIC_PASSWORD`.
    var basic: (user: String, password: String)?
    /// `CRM_API_KEY`: sent as `X-API-Key` or `?api_key=`.
    var apiKey: String?
    /// `CRM_CLIENT_ID` / `CRM_CLIENT_SECRET`: OAuth2 client credentials.
    var client: (id: String, secret: String)?
    /// `CRM_CONTROL_KEY`: required as `X-Control-Key` on `/_control` when set.
    var controlKey: String?

    /// Reads the credentials from `environment` (empty values count as unset).
    init(environment: [String: String]) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        bearerToken = value("CRM_BEARER_TOKEN")
        if let user = value("CRM_BASIC_USER"), let password = value("CRM_BASIC_PASSWORD") { basic = (user, password) }
        apiKey = value("CRM_API_KEY")
        if let id = value("CRM_CLIENT_ID"), let secret = value("CRM_CLIENT_SECRET") { client = (id, secret) }
        controlKey = value("CRM_CONTROL_KEY")
    }

    /// The credential kinds enabled, for the startup log line (names only, never values).
    var enabledKinds: [String] {
        [bearerToken.map { _ in "bearer" }, basic.map { _ in "basic" }, apiKey.map { _ in "api_key" }, client.map { _ in "oauth2" }]
            .compactMap { $0 }
    }
}

/// Splits an `Authorization: Basic …` header into user and password.
func basicCredentials(_ header: String?) -> (String, String)? {
    guard let header, header.lowercased().hasPrefix("basic "),
        let data = Data(base64Encoded: header.dropFirst(6).trimmingCharacters(in: .whitespaces))
    else { return nil }
    let text = String(decoding: data, as: UTF8.self)
    guard let colon = text.firstIndex(of: ":") else { return nil }
    return (String(text[..<colon]), String(text[text.index(after: colon)...]))
}

/// Requires one valid credential of any enabled kind on every `/api` request, then applies the API faults.
struct APIAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The accepted credentials.
    let credentials: CRMCredentials
    /// Issued OAuth tokens and faults live here.
    let store: CRMStore

    /// Authenticates, then delays or fails the request as the current faults say.
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard await isAuthenticated(request) else {
            return CRMHTTP.error(
                .unauthorized, code: "UNAUTHORIZED", message: "A valid bearer token, basic credential or API key is required.",
                headers: [.wwwAuthenticate: "Bearer realm=\"crm-demo\""])
        }
        let latency = await store.faults.latencyMs
        if latency > 0 { try await Task.sleep(for: .milliseconds(latency)) }
        if let failure = await store.takeFailure() {
            var headers: HTTPFields = [:]
            if failure.retryAfter > 0 { headers[.retryAfter] = String(failure.retryAfter) }
            return CRMHTTP.error(
                HTTPResponse.Status(code: failure.status), code: "INJECTED_FAULT", message: "Injected failure (status \(failure.status)).",
                headers: headers)
        }
        return try await next(request, context)
    }

    private func isAuthenticated(_ request: Request) async -> Bool {
        let authorization = request.headers[.authorization]
        if let authorization, authorization.lowercased().hasPrefix("bearer ") {
            let token = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
            if let expected = credentials.bearerToken, CRMHTTP.constantTimeEquals(token, expected) { return true }
            return await store.isValidToken(token)
        }
        if let (user, password) = basicCredentials(authorization), let expected = credentials.basic {
            return CRMHTTP.constantTimeEquals(user, expected.user) && CRMHTTP.constantTimeEquals(password, expected.password)
        }
        guard let expected = credentials.apiKey else { return false }
        if let key = CRMHTTP.header(request, "x-api-key") { return CRMHTTP.constantTimeEquals(key, expected) }
        if let key = CRMHTTP.stringQuery(request, "api_key") { return CRMHTTP.constantTimeEquals(key, expected) }
        return false
    }
}

/// `POST /oauth/token`: the OAuth2 client-credentials grant (RFC 6749 §4.4).
struct OAuthTokenEndpoint: Sendable {
    /// Access tokens live this long.
    static let lifetimeSeconds = 300
    /// The accepted client.
    let credentials: CRMCredentials
    /// Where issued tokens are kept.
    let store: CRMStore

    /// Issues a token to an authenticated client (HTTP Basic or `client_id`/`client_secret` form fields).
    func handle(_ request: Request) async throws -> Response {
        let form = CRMHTTP.formFields(try await CRMHTTP.body(request))
        guard form["grant_type"] == "client_credentials" else {
            return CRMHTTP.json(.badRequest, ["error": "unsupported_grant_type"])
        }
        let viaBasic = basicCredentials(request.headers[.authorization])
        let presented = viaBasic ?? form["client_id"].map { ($0, form["client_secret"] ?? "") }
        guard let expected = credentials.client, let (id, secret) = presented,
            CRMHTTP.constantTimeEquals(id, expected.id), CRMHTTP.constantTimeEquals(secret, expected.secret)
        else {
            // RFC 6749 §5.2: the challenge is required only when the client authenticated with the Authorization header.
            let challenge: HTTPFields = viaBasic == nil ? [:] : [.wwwAuthenticate: "Basic realm=\"crm-demo\""]
            return CRMHTTP.json(.unauthorized, ["error": "invalid_client"], headers: challenge)
        }
        let token = await store.issueToken(lifetime: .seconds(Self.lifetimeSeconds))
        return CRMHTTP.json(
            .ok, ["access_token": .string(token), "token_type": "Bearer", "expires_in": .int(Self.lifetimeSeconds)])
    }
}
