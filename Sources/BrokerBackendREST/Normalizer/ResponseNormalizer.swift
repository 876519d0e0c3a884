// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// Maps a backend's JSON to the tool's documented output: select and rename fields by JSON pointer, drop keys,
/// flatten nested objects, and map the items of an array.
struct ResponseNormalizer: Sendable {
    /// When set, the result is a list: `fields` apply to each item of the array at this pointer (`""` = the root
    /// array) and the output is `{"items": […]}`.
    var itemsPointer: String?
    /// Output name and RFC 6901 pointer (relative to the item) of each selected field; empty keeps every field.
    var fields: [(name: String, pointer: String)]
    /// Top-level keys removed from each item after selection.
    var drop: [String]
    /// Flattens nested objects into `parent_child` keys.
    var flatten: Bool

    /// A normalizer that returns the backend's JSON unchanged.
    static let identity = ResponseNormalizer()

    /// Creates a normalizer; the defaults are the identity.
    init(itemsPointer: String? = nil, fields: [(name: String, pointer: String)] = [], drop: [String] = [], flatten: Bool = false) {
        self.itemsPointer = itemsPointer
        self.fields = fields
        self.drop = drop
        self.flatten = flatten
    }

    /// Whether the normalizer changes nothing.
    var isIdentity: Bool { itemsPointer == nil && fields.isEmpty && drop.isEmpty && !flatten }

    /// Normalizes one response document.
    func apply(_ value: JSONValue) -> JSONValue {
        guard itemsPointer != nil else { return mapItem(value) }
        return wrap(items: (extractItems(value) ?? []).map(mapItem))
    }

    /// The raw items of a list response (one page), or `nil` when the response has no array at `itemsPointer`
    /// (or the normalizer is not a list).
    func extractItems(_ value: JSONValue) -> [JSONValue]? {
        guard let itemsPointer else { return nil }
        return jsonPointer(value, itemsPointer)?.arrayValue
    }

    /// The output document for already mapped items (used to join several pages).
    func wrap(items: [JSONValue]) -> JSONValue { .object(["items": .array(items)]) }

    /// Applies select/rename, drop and flatten to one item.
    func mapItem(_ item: JSONValue) -> JSONValue {
        var out = item
        if !fields.isEmpty {
            var o: [String: JSONValue] = [:]
            // A field the backend omitted is left out rather than invented as null.
            for field in fields {
                if let v = jsonPointer(item, field.pointer) { o[field.name] = v }
            }
            out = .object(o)
        }
        if !drop.isEmpty, case .object(var o) = out {
            for key in drop { o.removeValue(forKey: key) }
            out = .object(o)
        }
        if flatten, case .object(let o) = out {
            var flat: [String: JSONValue] = [:]
            Self.flatten(o, prefix: "", into: &flat)
            out = .object(flat)
        }
        return out
    }

    private static func flatten(_ o: [String: JSONValue], prefix: String, into out: inout [String: JSONValue]) {
        for (k, v) in o {
            let key = prefix.isEmpty ? k : "\(prefix)_\(k)"
            if case .object(let inner) = v, !inner.isEmpty {
                flatten(inner, prefix: key, into: &out)
            } else {
                out[key] = v
            }
        }
    }
}
