// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// Resolves an RFC 6901 JSON pointer in `value`: `""` is the whole document, `/a/0/b~1c` walks object members
/// (with `~1` for `/` and `~0` for `~`) and array indexes. Returns `nil` when any step is missing or the pointer
/// is malformed.
func jsonPointer(_ value: JSONValue, _ pointer: String) -> JSONValue? {
    guard let tokens = JSONPointer.tokens(pointer) else { return nil }
    var current = value
    for token in tokens {
        switch current {
        case .object(let o):
            guard let next = o[token] else { return nil }
            current = next
        case .array(let a):
            guard let i = JSONPointer.index(token), i < a.count else { return nil }
            current = a[i]
        default:
            return nil
        }
    }
    return current
}

/// Parsing helpers for RFC 6901 JSON pointers.
enum JSONPointer {
    /// The unescaped reference tokens of `pointer`, or `nil` when it is not a valid pointer (it must be empty or
    /// start with `/`, and `~` may only be followed by `0` or `1`).
    static func tokens(_ pointer: String) -> [String]? {
        if pointer.isEmpty { return [] }
        guard pointer.hasPrefix("/") else { return nil }
        var out: [String] = []
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var escape = false
            for c in raw {
                if escape {
                    switch c {
                    case "0": token.append("~")
                    case "1": token.append("/")
                    default: return nil
                    }
                    escape = false
                } else if c == "~" {
                    escape = true
                } else {
                    token.append(c)
                }
            }
            if escape { return nil }
            out.append(token)
        }
        return out
    }

    /// Whether `pointer` is syntactically valid.
    static func isValid(_ pointer: String) -> Bool { tokens(pointer) != nil }

    /// An array index token: `0` or digits without a leading zero.
    static func index(_ token: String) -> Int? {
        guard !token.isEmpty, token.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        if token.count > 1 && token.hasPrefix("0") { return nil }
        return Int(token)
    }
}
