// SPDX-License-Identifier: Apache-2.0

/// Recognises path-parameter values that could climb out of the declared path.
///
/// The broker encodes `/` and sends the path as is (`CURLOPT_PATH_AS_IS`), so libcurl itself never resolves a
/// traversal; but servers, proxies and frameworks in front of the API decode `%2F`, `%2e` or `\` and then
/// normalise — sometimes twice. A value that is, or after any of those decodings contains, a `.` or `..` segment
/// is therefore refused outright: no legitimate identifier needs one.
enum PathSegments {
    /// Decoding rounds tried; a value still changing after this many is refused as deliberately obfuscated.
    static let maxDecodingRounds = 4

    /// Whether `value` is or contains a `.`/`..` segment, split on `/` and `\`, raw or percent-decoded up to
    /// ``maxDecodingRounds`` times.
    static func hasDotSegment(_ value: String) -> Bool {
        var bytes = Array(value.utf8)
        for _ in 0..<maxDecodingRounds {
            if containsDotSegment(bytes) { return true }
            let decoded = percentDecodedLeniently(bytes)
            if decoded == bytes { return false }
            bytes = decoded
        }
        return true
    }

    private static func containsDotSegment(_ bytes: [UInt8]) -> Bool {
        bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            .flatMap { $0.split(separator: UInt8(ascii: "\\"), omittingEmptySubsequences: false) }
            .contains { segment in !segment.isEmpty && segment.count <= 2 && segment.allSatisfy { $0 == UInt8(ascii: ".") } }
    }

    /// Decodes every valid `%XX` and keeps anything else as is, as lenient servers do (a strict decoder that gives
    /// up on `%zz` would miss `%2e%2e/%zz`).
    static func percentDecodedLeniently(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
