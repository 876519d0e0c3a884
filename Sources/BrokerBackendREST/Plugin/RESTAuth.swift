// SPDX-License-Identifier: Apache-2.0

import BrokerCore

/// How the plugin authenticates to the backend: its own credential set, never the MCP client's token.
enum RESTAuth: Sendable {
    case none
    case bearer(SecretReference)
    case basic(user: String, password: SecretReference)
    case apiKey(name: String, inQuery: Bool, value: SecretReference)
    case oauth2(tokenURL: String, clientID: String, clientSecret: SecretReference, scope: String?)

    static func parse(_ a: ConfigNode) throws(ConfigError) -> RESTAuth {
        let type = try a.string("type")
        let result: RESTAuth
        switch type {
        case "none": result = .none
        case "bearer":
            guard let token = try a.secret("token") else { throw a.error("token", "is required") }
            result = .bearer(token)
        case "basic":
            guard let password = try a.secret("password") else { throw a.error("password", "is required") }
            result = .basic(user: try a.string("user"), password: password)
        case "api_key":
            let location = try a.string("in", default: "header")
            guard location == "header" || location == "query" else { throw a.error("in", "must be header or query") }
            guard let value = try a.secret("value") else { throw a.error("value", "is required") }
            result = .apiKey(name: try a.string("name", default: "X-API-Key"), inQuery: location == "query", value: value)
        case "oauth2_client_credentials":
            guard let secret = try a.secret("client_secret") else { throw a.error("client_secret", "is required") }
            result = .oauth2(tokenURL: try a.string("token_url"), clientID: try a.string("client_id"), clientSecret: secret, scope: try a.optionalString("scope"))
        default:
            throw a.error("type", "must be one of none, bearer, basic, api_key, oauth2_client_credentials")
        }
        try a.finish()
        return result
    }
}
