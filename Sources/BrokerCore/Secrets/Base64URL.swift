// SPDX-License-Identifier: Apache-2.0

/// Base64url without padding (RFC 4648 §5, as JWS compact serialisation and JWKs use it).
///
/// Our own strict decoder rather than Foundation's: it refuses padding, whitespace and any character outside the
/// alphabet, so nothing is silently skipped. Shared by JWTs and API keys (BrokerAuth) and the broker's own sealed
/// tokens, which also demand the one canonical spelling (``decodeCanonical(_:)``).
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Encodes without padding.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count * 4 + 2) / 3)
        var i = 0
        while i < input.count {
            let b0 = input[i], b1 = i + 1 < input.count ? input[i + 1] : 0, b2 = i + 2 < input.count ? input[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            if i + 1 < input.count { out.append(alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)]) }
            if i + 2 < input.count { out.append(alphabet[Int(b2 & 0x3F)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes unpadded base64url; `nil` for any character outside the alphabet or an impossible length.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for c in text {
            guard let v = value(of: c) else { return nil }
            buffer = buffer << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        // A single trailing character carries only 6 bits: no whole byte, so no valid encoding ends that way.
        guard text.count % 4 != 1 else { return nil }
        return out
    }

    /// Decodes the UTF-8 bytes of `text`.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? { decode(Array(text.utf8)) }

    /// Decodes, and also refuses non-zero left-over bits, so a token the broker issued has exactly one spelling (two
    /// strings that open to the same bytes would let a replay slip past a set of used tokens keyed by text).
    public static func decodeCanonical(_ text: some StringProtocol) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard let out = decode(chars) else { return nil }
        let leftover = (chars.count * 6) % 8
        guard leftover > 0, let last = chars.last, let v = value(of: last) else { return out }
        return v & UInt8((1 << leftover) - 1) == 0 ? out : nil
    }

    private static func value(of c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): return 62
        case UInt8(ascii: "_"): return 63
        default: return nil
        }
    }
}
