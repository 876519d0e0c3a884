// SPDX-License-Identifier: Apache-2.0

/// Eight-bytes-at-a-time (SWAR) classification of JSON text, for the scanners on the relay path.
///
/// Each function takes eight bytes as one little-endian `UInt64` (byte `i` in bits `8i..<8i+8`) and returns a
/// mask with bit `8i+7` set exactly for the bytes in the class, so `mask.trailingZeroBitCount >> 3` is the index
/// of the first one (8 when there is none). The arithmetic is the carry-free form: every lane is reduced to 7 bits
/// before an addition, so no lane's carry reaches its neighbour and the masks have no false positives (the
/// classic `(x - 0x01…) & ~x & 0x80…` form does, after a matching byte). Loads go through ``word(_:at:)``, which
/// its callers only use where they have checked that eight bytes remain.
enum ByteScan {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let high: UInt64 = 0x8080_8080_8080_8080
    static let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F

    /// The eight bytes at `offset` as a little-endian word. The caller guarantees `offset + 8 <= count`.
    @inline(__always)
    static func word(_ base: UnsafePointer<UInt8>, at offset: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self))
    }

    /// High bit of every lane that is zero.
    @inline(__always)
    static func zeroLanes(_ x: UInt64) -> UInt64 {
        // (lane & 0x7F) + 0x7F sets bit 7 unless the low seven bits are zero; or-ing the lane adds bit 7 itself.
        ~(((x & low7) &+ low7) | x) & high
    }

    /// High bit of every lane equal to `byte`.
    @inline(__always)
    static func lanes(_ w: UInt64, equalTo byte: UInt8) -> UInt64 {
        zeroLanes(w ^ (ones &* UInt64(byte)))
    }

    /// High bit of every lane below 0x20 (the control characters JSON strings may not hold raw).
    @inline(__always)
    static func controlLanes(_ w: UInt64) -> UInt64 {
        // (lane & 0x7F) + 0x60 reaches bit 7 exactly when the low seven bits are >= 0x20; a set bit 7 in the
        // lane itself means >= 0x80.
        ~(((w & low7) &+ (ones &* 0x60)) | w) & high
    }

    /// Bytes that end a run of plain string text: `"`, `\`, controls, and non-ASCII (checked as UTF-8 one
    /// sequence at a time).
    @inline(__always)
    static func stringStops(_ w: UInt64) -> UInt64 {
        (w & high) | controlLanes(w) | lanes(w, equalTo: UInt8(ascii: "\"")) | lanes(w, equalTo: UInt8(ascii: "\\"))
    }

    /// Bytes a JSON string literal must escape: `"`, `\` and controls (UTF-8 is copied as it is).
    @inline(__always)
    static func escapeLanes(_ w: UInt64) -> UInt64 {
        controlLanes(w) | lanes(w, equalTo: UInt8(ascii: "\"")) | lanes(w, equalTo: UInt8(ascii: "\\"))
    }

    /// Bytes that are not JSON whitespace (space, tab, line feed, carriage return).
    @inline(__always)
    static func nonWhitespace(_ w: UInt64) -> UInt64 {
        let space = lanes(w, equalTo: 0x20) | lanes(w, equalTo: 0x0A) | lanes(w, equalTo: 0x0D) | lanes(w, equalTo: 0x09)
        return ~space & high
    }

    /// Index (0–7) of the first byte flagged in `mask`, which must not be zero.
    @inline(__always)
    static func firstLane(_ mask: UInt64) -> Int { mask.trailingZeroBitCount >> 3 }
}
