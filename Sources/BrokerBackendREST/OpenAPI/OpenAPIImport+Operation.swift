// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import OpenAPIKit30

extension OpenAPIImport {
    /// One document being imported, with its component schemas as JSON for `$ref` resolution.
    struct Context {
        let file: String
        let document: OpenAPI.Document
        let schemas: [String: JSONValue]

        init(file: String, document: OpenAPI.Document) {
            self.file = file
            self.document = document
            var map: [String: JSONValue] = [:]
            for (key, schema) in document.components.schemas {
                if let json = Self.json(schema) { map[key.rawValue] = json }
            }
            self.schemas = map
        }

        /// Builds the operation for one endpoint (name and description are the caller's to override).
        func operation(_ endpoint: OpenAPI.PathItem.Endpoint, route: OpenAPI.Document.Route, at: String) throws(ConfigError) -> RESTOperation {
            let op = endpoint.operation
            var parameters: [RESTParameter] = []
            // Operation-level parameters override path-item-level ones with the same name and location.
            for either in route.pathItem.parameters + op.parameters {
                let p: OpenAPI.Parameter
                do { p = try document.components.lookup(either) } catch {
                    throw ConfigError(file: file, path: "\(at).parameters", reason: "a parameter reference cannot be resolved")
                }
                guard let param = try parameter(p, at: "\(at).parameters.\(p.name)") else { continue }
                parameters.removeAll { $0.name == param.name && $0.location == param.location }
                parameters.append(param)
            }
            let template = route.path.rawValue
            for v in RESTOperation.pathVariables(template) where !parameters.contains(where: { $0.name == v && $0.location == .path }) {
                throw ConfigError(file: file, path: at, reason: "the path uses {\(v)} but declares no such path parameter")
            }
            parameters.removeAll { $0.location == .path && !RESTOperation.pathVariables(template).contains($0.name) }
            var result = RESTOperation(
                toolName: "", description: op.summary ?? op.description ?? "\(endpoint.method.rawValue) \(template)",
                method: endpoint.method.rawValue.uppercased(), pathTemplate: template, parameters: parameters,
                bodySchema: nil, bodyTemplate: nil, normalizer: .identity, pagination: nil, outputSchema: nil, errorMessages: [:])
            if let body = op.requestBody {
                let request: OpenAPI.Request
                do { request = try document.components.lookup(body) } catch {
                    throw ConfigError(file: file, path: "\(at).requestBody", reason: "the request body reference cannot be resolved")
                }
                if let content = request.content[.json] {
                    let schema = content.schema.flatMap(encode) ?? ["type": "object"]
                    result.bodySchema = try resolveAndTranslate(schema, at: "\(at).requestBody")
                    result.bodyRequired = request.required
                } else if request.required {
                    throw ConfigError(file: file, path: "\(at).requestBody", reason: "only application/json request bodies are supported")
                }
            }
            guard !parameters.contains(where: { $0.name == "body" }) || result.bodySchema == nil else {
                throw ConfigError(file: file, path: "\(at).parameters.body", reason: "a parameter named 'body' clashes with the request body argument")
            }
            do {
                _ = try CompiledSchema(result.inputSchema)
            } catch {
                throw ConfigError(file: file, path: at, reason: "the translated input schema does not compile: \(error.description)")
            }
            return result
        }

        private func parameter(_ p: OpenAPI.Parameter, at: String) throws(ConfigError) -> RESTParameter? {
            let location: RESTParameter.Location
            switch p.context {
            case .path: location = .path
            case .query: location = .query
            case .header:
                // The spec says Accept, Content-Type and Authorization header parameters SHALL be ignored; the
                // broker owns credentials and framing, so every reserved header is.
                if RESTOperation.reservedHeaders.contains(p.name.lowercased()) { return nil }
                location = .header
            case .cookie:
                if p.required { throw ConfigError(file: file, path: at, reason: "required cookie parameters are not supported") }
                return nil
            }
            var schema: JSONValue = ["type": "string"]
            if case .a(let ctx) = p.schemaOrContent, let json = encode(ctx.schema) {
                schema = try resolveAndTranslate(json, at: at)
            }
            return RESTParameter(name: p.name, location: location, required: p.required, schema: schema, description: p.description)
        }

        private func resolveAndTranslate(_ schema: JSONValue, at: String) throws(ConfigError) -> JSONValue {
            SchemaSubset.translate(try resolve(schema, depth: 0, at: at))
        }

        /// Inlines `#/components/schemas/…` references (depth-capped: a recursive schema stops being expanded).
        private func resolve(_ value: JSONValue, depth: Int, at: String) throws(ConfigError) -> JSONValue {
            switch value {
            case .object(let o):
                if let ref = o["$ref"]?.stringValue {
                    let prefix = "#/components/schemas/"
                    guard ref.hasPrefix(prefix), let target = schemas[String(ref.dropFirst(prefix.count))] else {
                        throw ConfigError(file: file, path: at, reason: "schema reference '\(ref.prefix(80))' cannot be resolved")
                    }
                    if depth >= 8 { return ["description": "Nested structure; see the API documentation."] }
                    return try resolve(target, depth: depth + 1, at: at)
                }
                var out: [String: JSONValue] = [:]
                for (k, v) in o { out[k] = try resolve(v, depth: depth, at: at) }
                return .object(out)
            case .array(let a):
                var out: [JSONValue] = []
                for v in a { out.append(try resolve(v, depth: depth, at: at)) }
                return .array(out)
            default:
                return value
            }
        }

        private func encode(_ schema: Either<JSONReference<JSONSchema>, JSONSchema>) -> JSONValue? { Self.json(schema) }

        /// Any OpenAPIKit value as our JSON tree (through its `Encodable` conformance).
        static func json(_ value: some Encodable) -> JSONValue? {
            guard let data = try? JSONEncoder().encode(value) else { return nil }
            return try? JSONParser.parse(Array(data), limits: .init(maxDepth: 256))
        }
    }
}
