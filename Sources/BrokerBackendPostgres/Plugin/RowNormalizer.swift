// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// Maps PostgreSQL text-format values to JSON by column type, faithfully.
///
/// `numeric` stays a string (a JSON number through a Double would lose digits: 12345678901234567.89);
/// timestamps become ISO 8601; `json`/`jsonb` become JSON; one-dimensional arrays become JSON arrays;
/// NULL is `null`. Unknown types pass through as their text.
enum RowNormalizer {
    /// Type names for the OIDs we map (others are reported as `oid:<n>`).
    static let typeNames: [UInt32: String] = [
        16: "boolean", 17: "bytea", 18: "char", 19: "name", 20: "bigint", 21: "smallint", 23: "integer", 25: "text", 26: "oid",
        114: "json", 700: "real", 701: "double precision", 1042: "character", 1043: "character varying", 1082: "date",
        1083: "time", 1114: "timestamp", 1184: "timestamptz", 1186: "interval", 1700: "numeric", 2950: "uuid", 3802: "jsonb",
        1000: "boolean[]", 1005: "smallint[]", 1007: "integer[]", 1016: "bigint[]", 1009: "text[]", 1015: "character varying[]",
        1021: "real[]", 1022: "double precision[]", 1231: "numeric[]", 1182: "date[]",
    ]
    static let arrayElement: [UInt32: UInt32] = [1000: 16, 1005: 21, 1007: 23, 1016: 20, 1009: 25, 1015: 1043, 1021: 700, 1022: 701, 1231: 1700, 1182: 1082]

    static func typeName(_ oid: UInt32) -> String { typeNames[oid] ?? "oid:\(oid)" }

    /// One cell.
    static func value(_ text: String?, oid: UInt32) -> JSONValue {
        guard let text else { return .null }
        switch oid {
        case 16: return .bool(text == "t")
        case 20, 21, 23, 26: return Int64(text).map { .int($0) } ?? .string(text)
        case 700, 701:
            if let d = Double(text), d.isFinite { return .double(d) }
            return .string(text)  // NaN and ±Infinity have no JSON number form
        case 1114: return .string(text.replacingFirst(" ", with: "T"))
        case 1184: return .string(isoTimestampTZ(text))
        case 114, 3802: return (try? JSONParser.parse(text, limits: .init(maxDepth: 64, rejectNUL: false))) ?? .string(text)
        default:
            if let element = arrayElement[oid], let items = parseArray(text) {
                return .array(items.map { value($0, oid: element) })
            }
            return .string(text)
        }
    }

    /// `2024-01-05 10:00:00+00` → `2024-01-05T10:00:00+00:00`.
    static func isoTimestampTZ(_ text: String) -> String {
        var s = text.replacingFirst(" ", with: "T")
        if let sign = s.lastIndex(where: { $0 == "+" || $0 == "-" }), sign > s.index(s.startIndex, offsetBy: min(10, s.count)) {
            let offset = s[s.index(after: sign)...]
            if offset.count == 2 { s += ":00" }
        }
        return s
    }

    /// A one-dimensional PostgreSQL array literal (`{a,"b c",NULL}`); `nil` for nested or malformed input.
    static func parseArray(_ text: String) -> [String?]? {
        let chars = Array(text)
        guard chars.first == "{", chars.last == "}" else { return nil }
        var items: [String?] = []
        var i = 1
        if chars.count == 2 { return [] }
        while i < chars.count - 1 {
            if chars[i] == "{" { return nil }
            var item = ""
            var quoted = false
            if chars[i] == "\"" {
                quoted = true
                i += 1
                while i < chars.count - 1, chars[i] != "\"" {
                    if chars[i] == "\\", i + 1 < chars.count { i += 1 }
                    item.append(chars[i])
                    i += 1
                }
                i += 1
            } else {
                while i < chars.count - 1, chars[i] != "," {
                    item.append(chars[i])
                    i += 1
                }
            }
            items.append(!quoted && item == "NULL" ? nil : item)
            if i < chars.count - 1 {
                guard chars[i] == "," else { return nil }
                i += 1
            }
        }
        return items
    }

    /// A compact text table for the model (at most `maxRows` rows, cells cut at 40 characters).
    static func table(columns: [String], rows: [[JSONValue]], maxRows: Int = 50) -> String {
        func cell(_ v: JSONValue) -> String {
            let s: String
            switch v {
            case .string(let t): s = t
            case .null: s = "NULL"
            default: s = v.jsonText
            }
            let flat = s.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "|", with: "/")
            return flat.count > 40 ? String(flat.prefix(39)) + "…" : flat
        }
        var lines = [columns.joined(separator: " | ")]
        for row in rows.prefix(maxRows) { lines.append(row.map(cell).joined(separator: " | ")) }
        if rows.count > maxRows { lines.append("… \(rows.count - maxRows) more rows in structuredContent") }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func replacingFirst(_ target: Character, with replacement: String) -> String {
        guard let i = firstIndex(of: target) else { return self }
        return String(self[..<i]) + replacement + String(self[index(after: i)...])
    }

    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
