// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Which `jwks_url` values the broker accepts: `https://` anywhere, plain `http://` only to this machine.
///
/// The key set is the trust anchor of every token, so a JWKS fetched over plain HTTP from anywhere but loopback
/// could be replaced in transit. The URL is parsed and its host compared exactly; a text prefix check let
/// `http://localhost.evil.example`, `http://127.0.0.1.nip.io` and `http://localhost@evil.example` through.
public enum KeySetURL {
    /// Whether `text` may be used as a `jwks_url`.
    public static func isAllowed(_ text: String) -> Bool {
        // Userinfo has no business in a key-set URL and is the classic way to make a URL look like another host.
        guard let c = URLComponents(string: text), let scheme = c.scheme?.lowercased(), let host = c.host, !host.isEmpty,
            c.user == nil, c.password == nil, !text.contains("\\")
        else { return false }
        switch scheme {
        case "https": return true
        // No "@" anywhere: parsers disagree on where an authority with one ends, and a loopback URL needs none.
        case "http": return !text.contains("@") && isLoopbackHost(host)
        default: return false
        }
    }

    /// Exactly `localhost`, `::1`, or a dotted-quad IPv4 address in 127.0.0.0/8 (no shortened or octal forms,
    /// which resolvers interpret differently).
    public static func isLoopbackHost(_ host: String) -> Bool {
        var h = host.lowercased()
        if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        if h == "localhost" || h == "::1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        var octets: [Int] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }), part == "0" || !part.hasPrefix("0"),
                let value = Int(part), value <= 255
            else { return false }
            octets.append(value)
        }
        return octets.first == 127
    }
}
