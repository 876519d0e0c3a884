// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// Translates an OpenAPI 3.0 schema (as JSON, references already resolved) to the JSON Schema subset the
/// broker's validator compiles.
///
/// Kept: `type`, `properties`, `required`, `additionalProperties`, `enum`, bounds, lengths, `pattern` (when it is
/// a valid Swift regex), `format`, `items`, item counts and annotations. Translated: `nullable: true` adds
/// `"null"` to the type; 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` become the numeric form; a
/// one-element `allOf` is inlined and an `allOf` of objects is merged. Dropped: `oneOf`/`anyOf`/`not` (no type
/// constraint, with a note in the description; the backend still validates), `example`, `discriminator`, `xml`,
/// `multipleOf`, `uniqueItems` and any other keyword the validator does not know.
enum SchemaSubset {
    private static let copied: Set<String> = [
        "minimum", "maximum", "minLength", "maxLength", "format", "minItems", "maxItems", "title", "description",
        "default", "deprecated", "readOnly", "writeOnly",
    ]

    /// The translated schema.
    static func translate(_ schema: JSONValue) -> JSONValue {
        guard case .object(let o) = schema else { return .object([:]) }
        if let all = o["allOf"]?.arrayValue, !all.isEmpty {
            return mergeAllOf(all.map(translate), outer: o)
        }
        var out: [String: JSONValue] = [:]
        for (k, v) in o where copied.contains(k) { out[k] = v }
        if o["oneOf"] != nil || o["anyOf"] != nil || o["not"] != nil {
            let note = "Accepts several shapes; see the API documentation."
            out["description"] = .string([o["description"]?.stringValue, note].compactMap { $0 }.joined(separator: " "))
            return .object(out)
        }
        if let type = o["type"]?.stringValue {
            out["type"] = o["nullable"]?.boolValue == true ? .array([.string(type), "null"]) : .string(type)
        }
        if let e = o["enum"]?.arrayValue, !e.isEmpty {
            out["enum"] = o["nullable"]?.boolValue == true && !e.contains(.null) ? .array(e + [.null]) : .array(e)
        }
        if let p = o["pattern"]?.stringValue, (try? Regex(p)) != nil { out["pattern"] = .string(p) }
        for (key, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
            switch o[key] {
            case .bool(true)?:
                if let b = o[bound] {
                    out[key] = b
                    out.removeValue(forKey: bound)
                }
            case let v? where v.doubleValue != nil: out[key] = v
            default: break
            }
        }
        if let props = o["properties"]?.objectValue {
            out["properties"] = .object(props.mapValues(translate))
        }
        if let req = o["required"]?.arrayValue, !req.isEmpty { out["required"] = .array(req.filter { $0.stringValue != nil }) }
        switch o["additionalProperties"] {
        case .bool(let b)?: out["additionalProperties"] = .bool(b)
        case .object(let s)?: out["additionalProperties"] = translate(.object(s))
        default: break
        }
        if let items = o["items"] { out["items"] = translate(items) }
        return .object(out)
    }

    private static func mergeAllOf(_ parts: [JSONValue], outer: [String: JSONValue]) -> JSONValue {
        var rest = outer
        rest.removeValue(forKey: "allOf")
        let all = rest.isEmpty ? parts : parts + [translate(.object(rest))]
        if all.count == 1, let only = all.first { return only }
        var properties: [String: JSONValue] = [:]
        var required: [JSONValue] = []
        var descriptions: [String] = []
        for part in all {
            guard let o = part.objectValue, o["type"] == nil || o["type"] == "object" else {
                return .object(["description": "Accepts a combined shape; see the API documentation."])
            }
            for (k, v) in o["properties"]?.objectValue ?? [:] { properties[k] = v }
            for r in o["required"]?.arrayValue ?? [] where !required.contains(r) { required.append(r) }
            if let d = o["description"]?.stringValue { descriptions.append(d) }
        }
        var out: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { out["required"] = .array(required) }
        if !descriptions.isEmpty { out["description"] = .string(descriptions.joined(separator: " ")) }
        return .object(out)
    }
}
