// SPDX-License-Identifier: Apache-2.0

/// RFC 3986 percent-encoding, shared by the backends that put values into URLs and into SQL comments.
public enum PercentEncoding {
    /// Encodes everything outside the unreserved set (`A-Z a-z 0-9 - . _ ~`), UTF-8 first. Quotes, `*`, `/`, `&` and
    /// `=` never survive, so an encoded value cannot end the query parameter, comment or string literal around it.
    public static func unreserved(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(b >> 4)])
                out.unicodeScalars.append(hex[Int(b & 0x0F)])
            }
        }
        return out
    }
}
