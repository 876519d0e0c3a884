// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// One parameter of a REST operation, exposed as a tool argument of the same name.
struct RESTParameter: Sendable {
    /// Where the argument goes in the request.
    enum Location: String, Sendable, CaseIterable {
        /// Substituted into the path template, percent-encoded.
        case path
        /// Sent as a query item.
        case query
        /// Sent as a request header.
        case header
        /// Used only by the body template (`{{name}}`).
        case body
    }

    /// Argument name; also the wire name of the query item, header or path variable.
    var name: String
    /// Where the argument goes.
    var location: Location
    /// Whether the tool call must carry it (always true for path parameters).
    var required: Bool
    /// JSON Schema of the value (the broker-validator subset).
    var schema: JSONValue
    /// Shown to the model in the tool's input schema.
    var description: String?
}

/// Pagination to follow for a list operation: a JSON field carrying the next cursor (sent back as a query
/// parameter), or the RFC 8288 `Link` header with `rel="next"`.
struct Pagination: Sendable {
    /// How the next page is found.
    enum Kind: Sendable, Equatable {
        /// The cursor is at `responseField` (a JSON pointer) and is sent back as query item `requestParam`.
        case cursor(responseField: String, requestParam: String)
        /// The next page is the `Link` header's `rel="next"` URL.
        case linkHeader
    }

    /// How the next page is found.
    var kind: Kind
    /// Pointer to the array of items in each page (`""` = the root array).
    var itemsPointer: String
    /// At most this many pages are fetched for one call.
    var maxPages: Int
    /// At most this many items are returned (`nil` = no item cap beyond `maxPages`).
    var maxItems: Int?
}

/// A REST operation exposed as a tool (declared in YAML or imported from OpenAPI).
struct RESTOperation: Sendable {
    /// The tool name (`^[a-z0-9_]{1,30}$`).
    var toolName: String
    /// Tool description shown to the model.
    var description: String
    /// Upper-case HTTP method.
    var method: String
    /// Path with `{name}` variables, e.g. `/api/v1/accounts/{id}`.
    var pathTemplate: String
    /// The path, query, header and body-template parameters.
    var parameters: [RESTParameter]
    /// Object schema of the JSON body, exposed as tool argument `body`.
    var bodySchema: JSONValue?
    /// Whether the `body` argument is required (when `bodySchema` is set).
    var bodyRequired: Bool = true
    /// JSON template of the body; a string exactly `"{{x}}"` becomes argument `x`'s raw JSON value, and
    /// `{{x}}` inside a longer string is replaced by its text.
    var bodyTemplate: JSONValue?
    /// How the response is mapped to the tool's output.
    var normalizer: ResponseNormalizer
    /// Pages to follow, if any.
    var pagination: Pagination?
    /// The documented output shape, when declared.
    var outputSchema: JSONValue?
    /// Per-status message overrides; `{param}` placeholders are filled from the arguments.
    var errorMessages: [Int: String]

    /// GET and HEAD are read-only (and idempotent).
    var readOnly: Bool { method == "GET" || method == "HEAD" }

    /// The tool's input schema: one property per parameter (plus `body`), closed with
    /// `additionalProperties: false`.
    var inputSchema: JSONValue {
        var properties: [String: JSONValue] = [:]
        var required: [JSONValue] = []
        for p in parameters {
            var s = p.schema
            if let d = p.description, case .object(var o) = s, o["description"] == nil {
                o["description"] = .string(d)
                s = .object(o)
            }
            properties[p.name] = s
            if p.required { required.append(.string(p.name)) }
        }
        if let bodySchema {
            properties["body"] = bodySchema
            if bodyRequired { required.append("body") }
        }
        var schema: [String: JSONValue] = ["type": "object", "properties": .object(properties), "additionalProperties": false]
        if !required.isEmpty { schema["required"] = .array(required) }
        return .object(schema)
    }

    /// The `{name}` variables of a path template, in order.
    static func pathVariables(_ template: String) -> [String] {
        var out: [String] = []
        var current: String?
        for c in template {
            if c == "{" {
                current = ""
            } else if c == "}", let name = current {
                out.append(name)
                current = nil
            } else if current != nil {
                current?.append(c)
            }
        }
        return out
    }

    /// The per-status message for `status` with `{param}` placeholders filled from `arguments`, if overridden.
    func errorMessage(status: Int, arguments: [String: JSONValue]) -> String? {
        errorMessages[status].map { Self.fillPlaceholders($0, arguments) }
    }

    /// Replaces `{param}` in a message template with the argument's text; unknown names stay as written.
    static func fillPlaceholders(_ template: String, _ arguments: [String: JSONValue]) -> String {
        var out = ""
        var name: String?
        for c in template {
            if c == "{" {
                if let pending = name { out += "{" + pending }
                name = ""
            } else if c == "}", let n = name {
                out += arguments[n].map(Self.text) ?? "{\(n)}"
                name = nil
            } else if name != nil {
                name?.append(c)
            } else {
                out.append(c)
            }
        }
        if let pending = name { out += "{" + pending }
        return out
    }

    /// The text form of an argument value, as sent in a path, a query item or a header.
    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return s
        case .null: return ""
        case .array(let a): return a.map(text).joined(separator: ",")
        default: return value.jsonText
        }
    }
}
