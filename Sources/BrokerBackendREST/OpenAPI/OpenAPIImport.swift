// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import OpenAPIKit30
import Yams

/// Which operations of an OpenAPI document become tools: those listed by operationId or carrying one of the
/// tags. Both empty selects every operation that has an operationId.
struct OperationFilter: Sendable {
    /// Operations selected by id.
    var operationIds: Set<String>
    /// Operations selected by tag.
    var tags: Set<String>

    /// Creates a filter; empty sets select everything.
    init(operationIds: Set<String> = [], tags: Set<String> = []) {
        self.operationIds = operationIds
        self.tags = tags
    }

    /// Whether an operation is selected.
    func includes(operationId: String, tags opTags: [String]) -> Bool {
        if operationIds.isEmpty && tags.isEmpty { return true }
        return operationIds.contains(operationId) || opTags.contains(where: tags.contains)
    }
}

/// Turns the operations of an OpenAPI 3.0.x document (JSON or YAML file) into ``RESTOperation``s.
enum OpenAPIImport {
    /// Reads the document at `path` and returns the selected operations, in document order.
    ///
    /// Tool name = `renames[operationId]` ?? snake_case(operationId) and must match `^[a-z0-9_]{1,30}$`;
    /// description = `descriptions[operationId]` ?? summary ?? description. Parameters come from path, query and
    /// header parameter objects (path-item level ones too), schemas translated by ``SchemaSubset`` with `$ref`s
    /// resolved through `components`; an `application/json` request body becomes the `body` argument. The
    /// normalizer is the identity and there are no error overrides.
    /// - Throws: `ConfigError` (file = the document) for an unreadable document, an unknown operationId in the
    ///   filter or renames, a bad tool name, an unresolvable reference or an unsupported required parameter.
    static func operations(
        fromFile path: String, include: OperationFilter, renames: [String: String], descriptions: [String: String]
    ) throws(ConfigError) -> [RESTOperation] {
        let document = try load(path)
        let context = Context(file: path, document: document)
        let allIds = Set(document.allOperationIds)
        for (key, ids) in [("include.operation_ids", include.operationIds), ("renames", Set(renames.keys)), ("descriptions", Set(descriptions.keys))] {
            if let unknown = ids.subtracting(allIds).sorted().first {
                throw ConfigError(file: path, path: key, reason: "operationId '\(unknown)' is not in the document")
            }
        }
        if let unknown = include.tags.subtracting(document.allTags).sorted().first {
            throw ConfigError(file: path, path: "include.tags", reason: "no operation is tagged '\(unknown)'")
        }
        var out: [RESTOperation] = []
        var names: [String: String] = [:]
        for route in document.routes {
            for endpoint in route.pathItem.endpoints {
                guard let opId = endpoint.operation.operationId,
                    include.includes(operationId: opId, tags: endpoint.operation.tags ?? [])
                else { continue }
                let toolName = renames[opId] ?? snakeCase(opId)
                let at = "paths.\(route.path.rawValue).\(endpoint.method.rawValue.lowercased())"
                guard RESTOperation.isValidToolName(toolName) else {
                    throw ConfigError(file: path, path: renames[opId] == nil ? at : "renames.\(opId)",
                        reason: "tool name '\(toolName.prefix(40))' must match ^[a-z0-9_]{1,30}$ (rename it)")
                }
                if let other = names.updateValue(opId, forKey: toolName) {
                    throw ConfigError(file: path, path: "renames.\(opId)", reason: "tool name '\(toolName)' is also used by '\(other)'")
                }
                var op = try context.operation(endpoint, route: route, at: at)
                op.toolName = toolName
                if let d = descriptions[opId] { op.description = d }
                out.append(op)
            }
        }
        return out
    }

    /// `listAccounts` → `list_accounts`, `getHTTPStatus` → `get_http_status`, `get-account` → `get_account`.
    static func snakeCase(_ s: String) -> String {
        let chars = Array(s)
        var out = ""
        for (i, c) in chars.enumerated() {
            if c.isUppercase {
                let prev = i > 0 ? chars[i - 1] : nil
                let next = i + 1 < chars.count ? chars[i + 1] : nil
                if let prev, prev.isLowercase || prev.isNumber || (prev.isUppercase && next?.isLowercase == true) {
                    out.append("_")
                }
                out += c.lowercased()
            } else if c.isLetter || c.isNumber {
                out.append(c)
            } else if !out.hasSuffix("_") {
                out.append("_")
            }
        }
        return out.trimmingCharacters(in: CharacterSet(charactersIn: "_"))
    }

    private static func load(_ path: String) throws(ConfigError) -> OpenAPI.Document {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, path: "", reason: "OpenAPI document not found or unreadable")
        }
        let isJSON = path.hasSuffix(".json") || data.first(where: { !($0 == 32 || $0 == 9 || $0 == 10 || $0 == 13) }) == UInt8(ascii: "{")
        do {
            if isJSON { return try JSONDecoder().decode(OpenAPI.Document.self, from: data) }
            guard let text = String(data: data, encoding: .utf8) else { throw ConfigError(file: path, path: "", reason: "not UTF-8") }
            return try YAMLDecoder().decode(OpenAPI.Document.self, from: text)
        } catch let e as ConfigError {
            throw e
        } catch {
            let why = OpenAPI.Error(from: error).localizedDescription
            throw ConfigError(file: path, path: "", reason: "not a valid OpenAPI 3.0 document: \(why.prefix(300))")
        }
    }
}
