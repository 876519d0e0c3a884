// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore

/// Where a named-query parameter gets its value.
enum ParameterSource: Sendable, Equatable {
    /// From the tool arguments (the model), validated by the JSON Schema built from the declaration.
    case argument
    /// From the verified identity: the caller's tenant.
    case tenant
    /// From the verified identity: the principal id.
    case principal
    /// From the verified identity: one attribute (e.g. `region`).
    case attribute(String)
}

/// One declared parameter of a named query; `$n` in the SQL is the n-th declared parameter.
struct QueryParameter: Sendable {
    enum Kind: String, Sendable, CaseIterable { case string, integer, number, boolean, date, timestamp }

    let name: String
    let kind: Kind
    let source: ParameterSource
    let required: Bool
    let description: String?
    /// Extra JSON Schema constraints (enum, minimum, maximum, pattern, minLength, maxLength).
    let constraints: [String: JSONValue]

    /// The JSON Schema of an argument parameter.
    var schema: JSONValue {
        var s: [String: JSONValue]
        switch kind {
        case .string: s = ["type": "string"]
        case .integer: s = ["type": "integer"]
        case .number: s = ["type": "number"]
        case .boolean: s = ["type": "boolean"]
        case .date: s = ["type": "string", "format": "date"]
        case .timestamp: s = ["type": "string", "format": "date-time"]
        }
        for (k, v) in constraints { s[k] = v }
        if let description { s["description"] = .string(description) }
        return .object(s)
    }

    /// The text-format value libpq sends for an argument (nil = SQL NULL).
    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        case .double(let d)?: return String(d)
        case .bool(let b)?: return b ? "true" : "false"
        case let other?: return other.jsonText
        }
    }
}

/// A parameterised SQL query declared by ops and exposed as a tool.
struct NamedQuery: Sendable {
    let name: String
    let description: String
    let sql: String
    let parameters: [QueryParameter]
    let maxRows: Int
    let timeout: Duration
    /// A writing statement (INSERT … ON CONFLICT, say): runs in a READ WRITE transaction and is not annotated read-only.
    var write = false

    /// The tool's input schema: the argument parameters, plus an optional `cursor` for the next page.
    /// - Parameter cursorMaxLength: the longest cursor the backend issues (a sealed cursor carries the query).
    func inputSchema(cursorMaxLength: Int) -> JSONValue {
        var properties: [String: JSONValue] = [:]
        var required: [JSONValue] = []
        for p in parameters where p.source == .argument {
            properties[p.name] = p.schema
            if p.required { required.append(.string(p.name)) }
        }
        properties["cursor"] = [
            "type": "string", "maxLength": .int(cursorMaxLength),
            "description": "next_cursor from a truncated result, to fetch the next page (other arguments are then ignored)",
        ]
        return ["type": "object", "properties": .object(properties), "required": .array(required), "additionalProperties": false]
    }

    /// The `$n` placeholders used in `sql` (outside quotes and comments).
    static func placeholders(in sql: String) -> Set<Int> {
        var found = Set<Int>()
        let chars = Array(sql.unicodeScalars)
        var i = 0
        var quote: Unicode.Scalar?
        while i < chars.count {
            let c = chars[i]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
            } else if c == "-", i + 1 < chars.count, chars[i + 1] == "-" {
                while i < chars.count, chars[i] != "\n" { i += 1 }
            } else if c == "$", i + 1 < chars.count, ("1"..."9").contains(chars[i + 1]) {
                var j = i + 1
                var n = 0
                while j < chars.count, ("0"..."9").contains(chars[j]) {
                    n = n * 10 + Int(chars[j].value - 48)
                    j += 1
                }
                found.insert(n)
                i = j
                continue
            }
            i += 1
        }
        return found
    }
}
