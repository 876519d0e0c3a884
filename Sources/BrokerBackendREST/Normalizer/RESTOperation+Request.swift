// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

extension RESTOperation {
    /// Builds the request parts from validated arguments.
    ///
    /// Path variables are percent-encoded with the RFC 3986 unreserved set (a `/` in a value is encoded); query
    /// items and headers are returned as plain text (query items are encoded by ``encodeQuery(_:)``). An array
    /// query argument becomes one item per element (OpenAPI's default `form` + `explode`).
    /// - Throws: `BrokerError.invalidArguments` for a missing required path parameter, a path value that is or
    ///   contains a dot segment (see ``PathSegments``), or a header value with a line break.
    func buildRequest(arguments: [String: JSONValue]) throws(BrokerError) -> (
        path: String, query: [(String, String)], headers: [(String, String)], body: JSONValue?
    ) {
        var path = pathTemplate
        var query: [(String, String)] = []
        var headers: [(String, String)] = []
        for p in parameters {
            let value = Self.present(arguments[p.name])
            switch p.location {
            case .path:
                guard let value else { throw .invalidArguments("'\(p.name)' is required.") }
                let text = Self.text(value)
                guard !text.isEmpty else { throw .invalidArguments("'\(p.name)' must not be empty.") }
                guard !PathSegments.hasDotSegment(text) else {
                    throw .invalidArguments("'\(p.name)' must not be or contain the path segment '.' or '..' (in any encoding).")
                }
                path = path.replacing("{\(p.name)}", with: Self.percentEncode(text))
            case .query:
                guard let value else { continue }
                if case .array(let items) = value {
                    for item in items { query.append((p.name, Self.text(item))) }
                } else {
                    query.append((p.name, Self.text(value)))
                }
            case .header:
                guard let value else { continue }
                let text = Self.text(value)
                // Checked per scalar: "\r\n" is one Character, so a Character comparison would miss it.
                guard !text.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                    throw .invalidArguments("'\(p.name)' must not contain line breaks.")
                }
                headers.append((p.name, text))
            case .body:
                continue
            }
        }
        var body: JSONValue?
        if let bodyTemplate {
            body = Self.fill(bodyTemplate, arguments) ?? .null
        } else if bodySchema != nil {
            body = Self.present(arguments["body"])
        }
        return (path, query, headers, body)
    }

    /// The value unless it is absent or JSON null. (A `flatMap { $0.isNull ? nil : $0 }` would not do: JSONValue is
    /// nil-literal-expressible, so that `nil` becomes `.null`.)
    static func present(_ value: JSONValue?) -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        return value
    }

    /// Percent-encodes everything outside the RFC 3986 unreserved set (`A-Z a-z 0-9 - . _ ~`), UTF-8 first.
    static func percentEncode(_ s: String) -> String { PercentEncoding.unreserved(s) }

    /// `name=value&…`, both sides percent-encoded (no leading `?`).
    static func encodeQuery(_ items: [(String, String)]) -> String {
        items.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    /// Fills a body template; `nil` means "leave this member out" (a whole-string placeholder whose argument is
    /// absent).
    static func fill(_ template: JSONValue, _ arguments: [String: JSONValue]) -> JSONValue? {
        switch template {
        case .string(let s):
            if let name = wholePlaceholder(s) {
                guard let v = arguments[name] else { return nil }
                return v
            }
            guard s.contains("{{") else { return template }
            var out = s
            for name in placeholders(in: s) {
                out = out.replacing("{{\(name)}}", with: arguments[name].map(text) ?? "")
            }
            return .string(out)
        case .array(let a):
            return .array(a.map { fill($0, arguments) ?? .null })
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, v) in o {
                if let filled = fill(v, arguments) { out[k] = filled }
            }
            return .object(out)
        default:
            return template
        }
    }

    /// The argument name when `s` is exactly `{{name}}`.
    static func wholePlaceholder(_ s: String) -> String? {
        guard s.hasPrefix("{{"), s.hasSuffix("}}"), s.count > 4 else { return nil }
        let inner = String(s.dropFirst(2).dropLast(2))
        return inner.contains("{") || inner.contains("}") ? nil : inner
    }

    /// Every `{{name}}` placeholder in `s`.
    static func placeholders(in s: String) -> [String] {
        var out: [String] = []
        var rest = Substring(s)
        while let open = rest.firstRange(of: "{{") {
            let after = rest[open.upperBound...]
            guard let close = after.firstRange(of: "}}") else { break }
            out.append(String(after[..<close.lowerBound]))
            rest = after[close.upperBound...]
        }
        return out
    }

    /// Every placeholder used anywhere in a template.
    static func templatePlaceholders(_ template: JSONValue) -> Set<String> {
        switch template {
        case .string(let s): return Set(placeholders(in: s))
        case .array(let a): return a.reduce(into: Set<String>()) { $0.formUnion(templatePlaceholders($1)) }
        case .object(let o): return o.values.reduce(into: Set<String>()) { $0.formUnion(templatePlaceholders($1)) }
        default: return []
        }
    }
}
