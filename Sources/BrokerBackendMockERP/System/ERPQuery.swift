// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// A request the system refuses; carries the native error response.
struct ERPReject: Error {
    let response: ERPResponse

    init(_ status: Int, _ code: String, _ text: String, inner: [String: JSONValue] = [:]) {
        response = .error(status, code, text, inner: inner)
    }

    static func invalidFilter(_ text: String) -> ERPReject { ERPReject(400, ERPCode.invalidFilter, text) }
}

/// A filterable property of an entity set.
enum ERPField<Row> {
    /// Compared as text: `eq`, `ne`, `in`, `substringof` (case-insensitive).
    case text((Row) -> String)
    /// Compared as an integer after parsing the filter value (dates as day numbers, amounts as cents):
    /// `eq`, `ne`, `gt`, `ge`, `lt`, `le`, `in`.
    case number((Row) -> Int64, parse: (String) -> Int64?)
}

/// Compiles the structured `$filter` and applies `$orderby`, `$skip`, `$top` and `$inlinecount`.
enum ERPQuery {
    /// The server-side page limit, as on a real gateway.
    static let maxTop = 1000
    static let defaultTop = 100

    /// Compiles `$filter` (a list of `{"property", "op", "value"}`) into one predicate (conditions are AND-ed).
    static func predicate<Row>(_ raw: JSONValue?, fields: [String: ERPField<Row>]) throws(ERPReject) -> (Row) -> Bool {
        guard let raw else { return { _ in true } }
        guard let list = raw.arrayValue else { throw .invalidFilter("$filter must be a list of conditions") }
        var tests: [(Row) -> Bool] = []
        for item in list {
            guard let property = item["property"]?.stringValue, let op = item["op"]?.stringValue, let value = item["value"] else {
                throw .invalidFilter("Each $filter condition needs property, op and value")
            }
            guard let field = fields[property] else { throw .invalidFilter("Property \(property) is not filterable") }
            tests.append(try condition(field, property: property, op: op, value: value))
        }
        return { row in tests.allSatisfy { $0(row) } }
    }

    private static func strings(_ value: JSONValue, op: String, property: String) throws(ERPReject) -> [String] {
        if op == "in" {
            guard let a = value.arrayValue, !a.isEmpty else { throw .invalidFilter("Operator in on \(property) needs a non-empty list") }
            var out: [String] = []
            for v in a {
                guard let s = v.stringValue else { throw .invalidFilter("Invalid value in list for \(property)") }
                out.append(s)
            }
            return out
        }
        guard let s = value.stringValue else { throw .invalidFilter("Value for \(property) must be a string literal") }
        return [s]
    }

    private static func condition<Row>(_ field: ERPField<Row>, property: String, op: String, value: JSONValue) throws(ERPReject) -> (Row) -> Bool {
        let texts = try strings(value, op: op, property: property)
        switch field {
        case .text(let get):
            switch op {
            case "eq": return { get($0) == texts[0] }
            case "ne": return { get($0) != texts[0] }
            case "in": return { texts.contains(get($0)) }
            case "substringof":
                let needle = texts[0].lowercased()
                return { get($0).lowercased().contains(needle) }
            default: throw .invalidFilter("Operator \(op) is not supported for \(property)")
            }
        case .number(let get, let parse):
            var numbers: [Int64] = []
            for t in texts {
                guard let n = parse(t) else { throw .invalidFilter("Invalid value '\(t.prefix(40))' for \(property)") }
                numbers.append(n)
            }
            let n = numbers[0]
            switch op {
            case "eq": return { get($0) == n }
            case "ne": return { get($0) != n }
            case "gt": return { get($0) > n }
            case "ge": return { get($0) >= n }
            case "lt": return { get($0) < n }
            case "le": return { get($0) <= n }
            case "in": return { numbers.contains(get($0)) }
            default: throw .invalidFilter("Operator \(op) is not supported for \(property)")
            }
        }
    }

    /// Filters `count` rows (fetched by index), orders by key, pages, and renders the page.
    ///
    /// `$orderby` accepts only the entity set's key (`"EBELN desc"`); rows are stored in key order.
    static func collection<Row>(
        _ request: ERPRequest, set: String, key: String, count: Int, row: (Int) -> Row, fields: [String: ERPField<Row>],
        render: (Row) -> JSONValue
    ) throws(ERPReject) -> ERPResponse {
        let matches = try predicate(request.query["$filter"], fields: fields)
        var descending = false
        if let order = request.query["$orderby"] {
            switch order.stringValue {
            case key?, "\(key) asc"?: descending = false
            case "\(key) desc"?: descending = true
            default: throw ERPReject(400, ERPCode.badRequest, "$orderby supports only \(key) asc|desc")
            }
        }
        let top = try integerOption(request, "$top", default: defaultTop, range: 0...maxTop)
        let skip = try integerOption(request, "$skip", default: 0, range: 0...Int(Int32.max))
        var hits: [Int] = []
        for i in 0..<count where matches(row(i)) { hits.append(i) }
        if descending { hits.reverse() }
        let lower = min(skip, hits.count), upper = min(skip + top, hits.count)
        let rows = hits[lower..<upper].map { render(row($0)) }
        let inline = request.query["$inlinecount"]?.stringValue == "allpages"
        let next = upper < hits.count ? "\(set)?$skiptoken=\(upper)" : nil
        return .collection(rows, count: inline ? hits.count : nil, next: next)
    }

    private static func integerOption(_ request: ERPRequest, _ name: String, default def: Int, range: ClosedRange<Int>) throws(ERPReject) -> Int {
        guard let v = request.query[name] else { return def }
        guard let i = v.intValue ?? v.stringValue.flatMap({ Int64($0) }), range.contains(Int(i)) else {
            throw ERPReject(400, ERPCode.badRequest, "System query option \(name) must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return Int(i)
    }

    /// Splits `Set('key')` into the set name and the key; a bare `Set` has no key.
    static func parsePath(_ path: String) -> (set: String, key: String?)? {
        var p = Substring(path)
        if p.hasPrefix("/") { p = p.dropFirst() }
        guard !p.contains("/") else { return nil }
        guard let open = p.firstIndex(of: "(") else { return (String(p), nil) }
        let set = p[..<open]
        var inner = p[p.index(after: open)...]
        guard inner.hasSuffix(")") else { return nil }
        inner = inner.dropLast()
        guard inner.count >= 2, inner.hasPrefix("'"), inner.hasSuffix("'") else { return nil }
        return (String(set), String(inner.dropFirst().dropLast()))
    }
}
