// SPDX-License-Identifier: Apache-2.0

/// Encodes ``JSONValue`` trees as compact UTF-8 JSON.
///
/// Object keys are written in sorted order so the same value always yields the same bytes (stable logs,
/// argument hashes and cache keys). `/` is not escaped; non-finite doubles become `null`.
public enum JSONWriter {
    /// Encodes a value to bytes.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out)
        return out
    }

    /// Appends the encoding of `value` to `out`.
    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d):
            if d.isFinite {
                if d.rounded() == d && abs(d) < 1e15 {
                    out.append(contentsOf: String(Int64(d)).utf8)
                } else {
                    out.append(contentsOf: String(d).utf8)
                }
            } else {
                out.append(contentsOf: "null".utf8)
            }
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            var first = true
            for v in a {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                write(v, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var first = true
            // Sorting the pairs (not the keys, then looking each up) avoids a hash per key; comparing UTF-8 bytes
            // avoids Unicode-aware String ordering, which profiles showed dominating large encodes.
            for (k, v) in o.count < 2 ? Array(o) : o.sorted(by: { utf8Precedes($0.key, $1.key) }) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                writeString(k, into: &out)
                out.append(UInt8(ascii: ":"))
                write(v, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Byte order of the two strings' UTF-8 (the order `utf8.lexicographicallyPrecedes` gives), compared over their
    /// contiguous storage: stepping `String.UTF8View` indices cost ~16,000 instructions per mock HR reply.
    static func utf8Precedes(_ a: String, _ b: String) -> Bool {
        let ordered = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y -> Bool in
                let n = Swift.min(x.count, y.count)
                var i = 0
                while i < n {
                    if x[i] != y[i] { return x[i] < y[i] }
                    i += 1
                }
                return x.count < y.count
            }
        }
        // Storage that is not contiguous (a bridged string) takes the view's own comparison.
        return (ordered ?? nil) ?? a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Appends a JSON string literal.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Fast path: copy runs of bytes that need no escaping in bulk (most strings are one such run).
        let copied: Bool = s.utf8.withContiguousStorageIfAvailable { bytes in
            appendEscaped(bytes, into: &out)
            return true
        } ?? false
        if !copied {
            for c in s.utf8 { escape(c, into: &out) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends `bytes` with `"`, `\` and controls escaped: the runs between them are found eight bytes at a time
    /// (``ByteScan``) while eight bytes remain, byte by byte in the tail, and appended whole.
    static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count, lastWord = bytes.count - 8
        var start = 0, i = 0
        while true {
            if i <= lastWord {
                let stops = ByteScan.escapeLanes(ByteScan.word(base, at: i))
                if stops == 0 {
                    i += 8
                    continue
                }
                i += ByteScan.firstLane(stops)
            } else {
                while i < count, !needsEscape(bytes[i]) { i += 1 }
                if i == count { break }
            }
            // bytes[i] needs an escape (i < count: a flagged lane lies inside the loaded word).
            if start < i { out.append(contentsOf: UnsafeBufferPointer(start: base + start, count: i - start)) }
            escape(bytes[i], into: &out)
            i += 1
            start = i
        }
        if start < count { out.append(contentsOf: UnsafeBufferPointer(start: base + start, count: count - start)) }
    }

    @inline(__always)
    private static func needsEscape(_ c: UInt8) -> Bool { c < 0x20 || c == 0x22 || c == 0x5C }

    private static func escape(_ c: UInt8, into out: inout [UInt8]) {
        switch c {
        case 0x22: out.append(0x5C); out.append(0x22)
        case 0x5C: out.append(0x5C); out.append(0x5C)
        case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
        case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
        case 0x00..<0x20:
            out.append(contentsOf: "\\u00".utf8)
            out.append(hex[Int(c >> 4)])
            out.append(hex[Int(c & 0xF)])
        default: out.append(c)
        }
    }
}
