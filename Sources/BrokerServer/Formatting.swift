// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// Plain-text tables for the CLI.
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(to: widths[i]) }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

/// Indented JSON for people.
enum Pretty {
    static func json(_ v: JSONValue, indent: String = "") -> String {
        let inner = indent + "  "
        switch v {
        case .array(let a) where !a.isEmpty:
            return "[\n" + a.map { inner + json($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let o) where !o.isEmpty:
            let keys = o.keys.sorted()
            return "{\n" + keys.map { k in inner + JSONValue.string(k).jsonText + ": " + json(o[k] ?? .null, indent: inner) }.joined(separator: ",\n") + "\n\(indent)}"
        default:
            return v.jsonText
        }
    }
}

extension String {
    fileprivate func padding(to width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
