// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

extension RESTOperation {
    /// HTTP methods a declared tool may use.
    static let allowedMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]

    /// Headers the broker owns (credentials, framing, content negotiation): never taken from tool arguments.
    static let reservedHeaders: Set<String> = [
        "authorization", "proxy-authorization", "cookie", "host", "content-type", "content-length", "content-encoding",
        "transfer-encoding", "connection", "accept", "accept-encoding", "te", "upgrade", "expect",
    ]

    /// Whether `name` is a valid tool name (`^[a-z0-9_]{1,30}$`).
    static func isValidToolName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 30
            && name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }

    /// Reads one declared tool (`tools.<name>` of a REST backend), strictly: unknown keys, undeclared path
    /// variables, bad pointers and schemas the broker cannot validate are errors naming the key path.
    static func parse(name: String, _ node: ConfigNode) throws(ConfigError) -> RESTOperation {
        guard isValidToolName(name) else { throw node.error(nil, "tool names use lowercase letters, digits and '_' (at most 30)") }
        let description = try node.string("description")
        let method = try node.string("method").uppercased()
        guard allowedMethods.contains(method) else {
            throw node.error("method", "must be one of \(allowedMethods.sorted().joined(separator: ", ")), got \"\(method.prefix(20))\"")
        }
        let path = try node.string("path")
        guard path.hasPrefix("/"), !path.contains("?"), !path.contains("#") else {
            throw node.error("path", "must start with '/' and carry no query or fragment (declare query parameters instead)")
        }
        var parameters: [RESTParameter] = []
        if let ps = try node.section("parameters") {
            for pname in ps.keys {
                guard let p = try ps.section(pname) else { throw ps.error(pname, "expected a mapping with 'in' and 'type'") }
                parameters.append(try readParameter(name: pname, p))
            }
            try ps.finish()
        }
        let variables = pathVariables(path)
        for v in variables where !parameters.contains(where: { $0.name == v && $0.location == .path }) {
            throw node.error("path", "uses {\(v)}, which is not declared under parameters with in: path")
        }
        for p in parameters where p.location == .path && !variables.contains(p.name) {
            throw node.error("parameters", "'\(p.name)' is declared in: path but the path has no {\(p.name)}")
        }
        var op = RESTOperation(
            toolName: name, description: description, method: method, pathTemplate: path, parameters: parameters,
            bodySchema: nil, bodyTemplate: nil, normalizer: .identity, pagination: nil, outputSchema: nil, errorMessages: [:])
        if let b = try node.section("body") {
            try readBody(b, into: &op)
        }
        if op.bodyTemplate == nil, let p = parameters.first(where: { $0.location == .body }) {
            throw node.error("parameters", "'\(p.name)' is declared in: body but there is no body template using it")
        }
        if let r = try node.section("response") {
            op.normalizer = try readNormalizer(r)
        }
        if let pg = try node.section("pagination") {
            op.pagination = try readPagination(pg, normalizer: &op.normalizer)
        }
        if let e = try node.section("errors") {
            for key in e.keys {
                guard let status = Int(key), (100...599).contains(status) else { throw e.error(key, "must be an HTTP status (100–599)") }
                op.errorMessages[status] = try e.string(key)
            }
            try e.finish()
        }
        if let out = try node.json("output_schema") {
            try compile(out, node, "output_schema")
            op.outputSchema = out
        }
        try node.finish()
        try compile(op.inputSchema, node, "parameters")
        return op
    }

    private static func readParameter(name: String, _ p: ConfigNode) throws(ConfigError) -> RESTParameter {
        guard !name.isEmpty, name != "body" else { throw p.error(nil, "'body' is reserved for the request body") }
        let where_ = try p.string("in")
        guard let location = RESTParameter.Location(rawValue: where_) else {
            throw p.error("in", "must be one of path, query, header, body")
        }
        if location == .header, reservedHeaders.contains(name.lowercased()) {
            throw p.error(nil, "header '\(name)' is set by the broker and cannot be a tool argument")
        }
        let type = try p.string("type")
        guard ["string", "integer", "number", "boolean", "array"].contains(type) else {
            throw p.error("type", "must be one of string, integer, number, boolean, array")
        }
        var schema: [String: JSONValue] = ["type": .string(type)]
        for (key, schemaKey) in [
            ("enum", "enum"), ("minimum", "minimum"), ("maximum", "maximum"), ("pattern", "pattern"), ("format", "format"),
            ("min_length", "minLength"), ("max_length", "maxLength"), ("items", "items"), ("min_items", "minItems"),
            ("max_items", "maxItems"), ("default", "default"),
        ] {
            if let v = try p.json(key) { schema[schemaKey] = v }
        }
        if type == "array", location == .path || location == .header {
            throw p.error("type", "arrays are supported for query and body parameters only")
        }
        var required = try p.bool("required", default: location == .path)
        if location == .path {
            guard required else { throw p.error("required", "path parameters are always required") }
            required = true
        }
        let description = try p.optionalString("description")
        try compile(.object(schema), p, nil)
        try p.finish()
        return RESTParameter(name: name, location: location, required: required, schema: .object(schema), description: description)
    }

    private static func readBody(_ b: ConfigNode, into op: inout RESTOperation) throws(ConfigError) {
        if let schema = try b.json("schema") {
            guard schema["type"]?.stringValue == "object" else { throw b.error("schema", "the body schema must be of type object") }
            try compile(schema, b, "schema")
            op.bodySchema = schema
            op.bodyRequired = try b.bool("required", default: true)
        }
        if let template = try b.json("template") {
            var known = Set(op.parameters.map(\.name))
            if op.bodySchema != nil { known.insert("body") }
            for name in templatePlaceholders(template).sorted() where !known.contains(name) {
                throw b.error("template", "uses {{\(name)}}, which is not a declared parameter")
            }
            op.bodyTemplate = template
        }
        try b.finish()
        if op.bodySchema == nil && op.bodyTemplate == nil { throw b.error(nil, "needs a schema, a template, or both") }
    }

    private static func readNormalizer(_ r: ConfigNode) throws(ConfigError) -> ResponseNormalizer {
        var n = ResponseNormalizer()
        n.itemsPointer = try r.optionalString("items")
        if let items = n.itemsPointer, !JSONPointer.isValid(items) { throw r.error("items", "must be a JSON pointer (\"\" or /a/b)") }
        if let f = try r.section("fields") {
            for key in f.keys {
                let pointer = try f.string(key)
                guard JSONPointer.isValid(pointer) else { throw f.error(key, "must be a JSON pointer (\"\" or /a/b)") }
                n.fields.append((key, pointer))
            }
            try f.finish()
        }
        n.drop = try r.stringList("drop")
        n.flatten = try r.bool("flatten", default: false)
        try r.finish()
        return n
    }

    private static func readPagination(_ pg: ConfigNode, normalizer: inout ResponseNormalizer) throws(ConfigError) -> Pagination {
        let kind: Pagination.Kind
        let linkHeader = try pg.bool("link_header", default: false)
        if let field = try pg.optionalString("next_cursor") {
            guard !linkHeader else { throw pg.error("link_header", "choose either next_cursor or link_header") }
            guard JSONPointer.isValid(field), !field.isEmpty else { throw pg.error("next_cursor", "must be a JSON pointer such as /next_cursor") }
            kind = .cursor(responseField: field, requestParam: try pg.string("cursor_param"))
        } else if linkHeader {
            kind = .linkHeader
        } else {
            throw pg.error(nil, "needs next_cursor (with cursor_param) or link_header: true")
        }
        let maxPages = try pg.int("max_pages", default: 5, range: 1...1000)
        let maxItems = try pg.has("max_items") ? pg.int("max_items", range: 1...1_000_000) : nil
        try pg.finish()
        if normalizer.itemsPointer == nil { normalizer.itemsPointer = "" }
        return Pagination(kind: kind, itemsPointer: normalizer.itemsPointer ?? "", maxPages: maxPages, maxItems: maxItems)
    }

    private static func compile(_ schema: JSONValue, _ node: ConfigNode, _ key: String?) throws(ConfigError) {
        do {
            _ = try CompiledSchema(schema)
        } catch {
            throw node.error(key, "not a schema the broker can validate: \(error.description)")
        }
    }
}
