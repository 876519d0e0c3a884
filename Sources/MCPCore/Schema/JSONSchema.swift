// SPDX-License-Identifier: Apache-2.0

/// A JSON Schema (2020-12 subset) compiled once, at load, for validating tool arguments on every call.
///
/// Supported keywords: `type` (one or several), `properties`, `required`, `additionalProperties` (bool or
/// schema), `enum`, `const`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `minLength`,
/// `maxLength`, `pattern`, `format` (`date`, `date-time`), `items`, `minItems`, `maxItems`. Annotation
/// keywords (`title`, `description`, `default`, `examples`, `$schema`, `x-*`) are ignored. Any other keyword
/// is refused at compile time: a schema that silently validates less than it says is worse than none.
public final class CompiledSchema: Sendable {
    let types: Set<String>?
    let properties: [String: CompiledSchema]
    let required: [String]
    let additionalProperties: Additional
    let enumValues: [JSONValue]?
    let constValue: JSONValue?
    let minimum: Double?, maximum: Double?, exclusiveMinimum: Double?, exclusiveMaximum: Double?
    let minLength: Int?, maxLength: Int?
    let pattern: Pattern?
    let format: String?
    let items: CompiledSchema?
    let minItems: Int?, maxItems: Int?

    enum Additional: Sendable {
        case allowed
        case forbidden
        case schema(CompiledSchema)
    }

    /// A compiled `pattern`; Regex is not declared Sendable, but a compiled one is immutable.
    final class Pattern: @unchecked Sendable {
        let source: String
        let regex: Regex<AnyRegexOutput>
        init(_ source: String) throws {
            self.source = source
            self.regex = try Regex(source)
        }
        func matches(_ s: String) -> Bool { (try? regex.firstMatch(in: s)) != nil }
    }

    private static let annotationKeywords: Set<String> = [
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly", "writeOnly",
    ]
    private static let knownKeywords: Set<String> = [
        "type", "properties", "required", "additionalProperties", "enum", "const", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "format", "items", "minItems", "maxItems",
    ]
    private static let knownTypes: Set<String> = ["string", "integer", "number", "boolean", "object", "array", "null"]

    /// Compiles a schema.
    /// - Throws: ``SchemaCompileError`` naming the keyword path that is not supported or malformed.
    public init(_ schema: JSONValue, path: String = "") throws(SchemaCompileError) {
        guard case .object(let o) = schema else { throw SchemaCompileError(path: path, reason: "a schema must be an object") }
        for key in o.keys where !Self.knownKeywords.contains(key) && !Self.annotationKeywords.contains(key) && !key.hasPrefix("x-") {
            throw SchemaCompileError(path: path, reason: "unsupported keyword '\(key)'")
        }
        switch o["type"] {
        case nil: types = nil
        case .string(let t)?:
            guard Self.knownTypes.contains(t) else { throw SchemaCompileError(path: path, reason: "unknown type '\(t)'") }
            types = [t]
        case .array(let ts)?:
            var set = Set<String>()
            for t in ts {
                guard let s = t.stringValue, Self.knownTypes.contains(s) else { throw SchemaCompileError(path: path, reason: "bad 'type' list") }
                set.insert(s)
            }
            types = set
        default: throw SchemaCompileError(path: path, reason: "'type' must be a string or an array")
        }
        var props: [String: CompiledSchema] = [:]
        if let p = o["properties"] {
            guard case .object(let po) = p else { throw SchemaCompileError(path: path, reason: "'properties' must be an object") }
            for (k, v) in po { props[k] = try CompiledSchema(v, path: path + "/properties/" + k) }
        }
        properties = props
        if let r = o["required"] {
            guard case .array(let ra) = r else { throw SchemaCompileError(path: path, reason: "'required' must be an array") }
            var names: [String] = []
            for x in ra {
                guard let s = x.stringValue else { throw SchemaCompileError(path: path, reason: "'required' must list strings") }
                names.append(s)
            }
            required = names
        } else {
            required = []
        }
        switch o["additionalProperties"] {
        case nil, .bool(true)?: additionalProperties = .allowed
        case .bool(false)?: additionalProperties = .forbidden
        case let s?: additionalProperties = .schema(try CompiledSchema(s, path: path + "/additionalProperties"))
        }
        if let e = o["enum"] {
            guard case .array(let ea) = e, !ea.isEmpty else { throw SchemaCompileError(path: path, reason: "'enum' must be a non-empty array") }
            enumValues = ea
        } else {
            enumValues = nil
        }
        constValue = o["const"]
        func number(_ k: String) throws(SchemaCompileError) -> Double? {
            guard let v = o[k] else { return nil }
            guard let d = v.doubleValue else { throw SchemaCompileError(path: path, reason: "'\(k)' must be a number") }
            return d
        }
        func count(_ k: String) throws(SchemaCompileError) -> Int? {
            guard let v = o[k] else { return nil }
            guard let i = v.intValue, i >= 0 else { throw SchemaCompileError(path: path, reason: "'\(k)' must be a non-negative integer") }
            return Int(i)
        }
        minimum = try number("minimum")
        maximum = try number("maximum")
        exclusiveMinimum = try number("exclusiveMinimum")
        exclusiveMaximum = try number("exclusiveMaximum")
        minLength = try count("minLength")
        maxLength = try count("maxLength")
        minItems = try count("minItems")
        maxItems = try count("maxItems")
        if let p = o["pattern"] {
            guard let s = p.stringValue, let compiled = try? Pattern(s) else {
                throw SchemaCompileError(path: path, reason: "'pattern' is not a valid regular expression")
            }
            pattern = compiled
        } else {
            pattern = nil
        }
        format = o["format"]?.stringValue
        items = try o["items"].map { v throws(SchemaCompileError) in try CompiledSchema(v, path: path + "/items") }
    }

    /// Validates a value; returns every violation found (empty when valid), each with its location.
    public func validate(_ value: JSONValue) -> [SchemaViolation] {
        var out: [SchemaViolation] = []
        check(value, at: "", into: &out)
        return out
    }

    private func check(_ value: JSONValue, at path: String, into out: inout [SchemaViolation]) {
        if out.count >= 20 { return }
        if let types, !Self.matches(value, types) {
            let expected = types.sorted().joined(separator: " or ")
            out.append(SchemaViolation(path: path, message: "must be \(expected), got \(value.typeName)"))
            return
        }
        if let enumValues, !enumValues.contains(where: { Self.equal($0, value) }) {
            let allowed = enumValues.prefix(12).map(\.jsonText).joined(separator: ", ")
            out.append(SchemaViolation(path: path, message: "must be one of \(allowed)"))
        }
        if let constValue, !Self.equal(constValue, value) {
            out.append(SchemaViolation(path: path, message: "must be \(constValue.jsonText)"))
        }
        switch value {
        case .int, .double:
            guard let d = value.doubleValue else { return }
            if let minimum, d < minimum { out.append(SchemaViolation(path: path, message: "must be ≥ \(Self.fmt(minimum))")) }
            if let maximum, d > maximum { out.append(SchemaViolation(path: path, message: "must be ≤ \(Self.fmt(maximum))")) }
            if let exclusiveMinimum, d <= exclusiveMinimum { out.append(SchemaViolation(path: path, message: "must be > \(Self.fmt(exclusiveMinimum))")) }
            if let exclusiveMaximum, d >= exclusiveMaximum { out.append(SchemaViolation(path: path, message: "must be < \(Self.fmt(exclusiveMaximum))")) }
        case .string(let s):
            let n = s.count
            if let minLength, n < minLength { out.append(SchemaViolation(path: path, message: "must have at least \(minLength) characters")) }
            if let maxLength, n > maxLength { out.append(SchemaViolation(path: path, message: "must have at most \(maxLength) characters")) }
            if let pattern, !pattern.matches(s) { out.append(SchemaViolation(path: path, message: "must match the pattern \(pattern.source)")) }
            if let format, !Self.checkFormat(format, s) { out.append(SchemaViolation(path: path, message: "must be a valid \(format)")) }
        case .array(let a):
            if let minItems, a.count < minItems { out.append(SchemaViolation(path: path, message: "must have at least \(minItems) items")) }
            if let maxItems, a.count > maxItems { out.append(SchemaViolation(path: path, message: "must have at most \(maxItems) items")) }
            if let items { for (i, v) in a.enumerated() { items.check(v, at: path + "/\(i)", into: &out) } }
        case .object(let o):
            for name in required where o[name] == nil { out.append(SchemaViolation(path: path + "/" + name, message: "is required")) }
            for (k, v) in o.sorted(by: { $0.key < $1.key }) {
                if let p = properties[k] {
                    p.check(v, at: path + "/" + k, into: &out)
                } else {
                    switch additionalProperties {
                    case .allowed: break
                    case .forbidden: out.append(SchemaViolation(path: path + "/" + String(k.prefix(64)), message: "is not a known parameter"))
                    case .schema(let s): s.check(v, at: path + "/" + k, into: &out)
                    }
                }
            }
        default: break
        }
    }

    static func matches(_ v: JSONValue, _ types: Set<String>) -> Bool {
        switch v {
        case .null: return types.contains("null")
        case .bool: return types.contains("boolean")
        case .int: return types.contains("integer") || types.contains("number")
        case .double(let d): return types.contains("number") || (types.contains("integer") && d.rounded() == d)
        case .string: return types.contains("string")
        case .array: return types.contains("array")
        case .object: return types.contains("object")
        }
    }

    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.doubleValue, let y = b.doubleValue { return x == y }
        return a == b
    }

    static func fmt(_ d: Double) -> String { d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d) }

    static func checkFormat(_ format: String, _ s: String) -> Bool {
        switch format {
        case "date": return isDate(s)
        case "date-time":
            guard s.count >= 20, let t = s.firstIndex(of: "T") else { return false }
            return isDate(String(s[..<t]))
        default: return true  // unknown formats are annotations (2020-12 default)
        }
    }

    static func isDate(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return false }
        guard let y = Int(String(s.prefix(4))), let m = Int(String(b[5...6].map { Character(Unicode.Scalar($0)) })),
            let d = Int(String(b[8...9].map { Character(Unicode.Scalar($0)) }))
        else { return false }
        let days = [31, (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return (1...12).contains(m) && d >= 1 && d <= days[m - 1]
    }
}

/// Why a schema could not be compiled.
public struct SchemaCompileError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}

/// One validation failure, phrased for the model to correct its call.
public struct SchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// JSON-pointer-like location, e.g. `/lines/0/quantity`; empty for the root.
    public let path: String
    public let message: String
    public var description: String {
        path.isEmpty ? message : "'\(path.dropFirst().replacingOccurrences(of: "/", with: "."))' \(message)"
    }
}

extension StringProtocol {
    fileprivate func replacingOccurrences(of target: Character, with replacement: String) -> String {
        var s = ""
        for c in self { if c == target { s += replacement } else { s.append(c) } }
        return s
    }
}
