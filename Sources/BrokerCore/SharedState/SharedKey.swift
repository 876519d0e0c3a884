// SPDX-License-Identifier: Apache-2.0

import Crypto

/// Builds the logical keys of the shared store from names that come from outside (tenants from tokens, tools and
/// backends from configuration), so that no two different name tuples ever share a key and no key grows unbounded.
///
/// Each part is written as `<utf8 length>:<text>`; a part longer than ``longestPlainPart`` bytes is written as `#`
/// and its SHA-256 in hex instead. A length starts with a digit and a hash with `#`, so a reader of the key always
/// knows where a part ends: `a:b` + `c` and `a` + `b:c` are different keys, whatever characters the names hold.
enum SharedKey {
    /// Parts up to this many UTF-8 bytes are kept readable in the key (operators can find a tenant's bucket).
    static let longestPlainPart = 96

    /// `<kind>:<scope>:` followed by each part, e.g. `rl:tenant_tool:4:acme12:erp__get_po`.
    static func make(_ kind: String, _ scope: String, _ parts: String?...) -> String {
        var key = kind + ":" + scope + ":"
        for part in parts { if let part { append(part, to: &key) } }
        return key
    }

    /// One length-prefixed (or hashed) part.
    static func append(_ part: String, to key: inout String) {
        let length = part.utf8.count
        if length <= longestPlainPart {
            key += String(length) + ":" + part
        } else {
            key += "#" + Hex.lowercase(SHA256.hash(data: Array(part.utf8)))
        }
    }
}
