// SPDX-License-Identifier: Apache-2.0

/// Eight-bytes-at-a-time (SWAR) classification of JSON text, for the scanners on the relay path.
///
/// Each function takes eight bytes as one little-endian `UInt64` (byte `i` in bits `8i..<8i+8`) and returns a
/// mask with bit `8i+7` set exactly for the bytes in the class, so `mask.trailingZeroBitCount >> 3` is the index
/// of the first one (8 when there is none). The arithmetic is the carry-free form: every lane is reduced to its low
/// seven bits t before an addition (t + 0x7F, t + 0x60 stay below 0x100), so no lane's carry reaches its neighbour
/// and the masks are exact (the classic `(x - 0x01…) & ~x & 0x80…` form can flag the byte after a match). Loads go through ``word(_:at:)``, which
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

    /// Bytes that end a run of plain string text: `"`, `\`, controls, and non-ASCII (checked as UTF-8 one
    /// sequence at a time).
    @inline(__always)
    static func stringStops(_ w: UInt64) -> UInt64 {
        // Per lane, on its low seven bits t: bit 7 of t + 0x60 says t >= 0x20, bit 7 of (t ^ c) + 0x7F says t != c.
        // A lane is plain text when all three hold and its own bit 7 is clear: one `and` folds the three tests.
        let t = w & low7
        let printable = t &+ (ones &* 0x60)
        let notQuote = (t ^ (ones &* 0x22)) &+ low7
        let notBackslash = (t ^ (ones &* 0x5C)) &+ low7
        return (~(printable & notQuote & notBackslash) | w) & high
    }

    /// Bytes a JSON string literal must escape: `"`, `\` and controls (UTF-8 is copied as it is).
    @inline(__always)
    static func escapeLanes(_ w: UInt64) -> UInt64 {
        let t = w & low7
        let printable = t &+ (ones &* 0x60)
        let notQuote = (t ^ (ones &* 0x22)) &+ low7
        let notBackslash = (t ^ (ones &* 0x5C)) &+ low7
        // Bytes >= 0x80 pass: their low seven bits may look like a quote or a control, so their bit 7 clears them.
        return ~(printable & notQuote & notBackslash) & ~w & high
    }

    /// Bytes that are not JSON whitespace (space, tab, line feed, carriage return).
    @inline(__always)
    static func nonWhitespace(_ w: UInt64) -> UInt64 {
        let t = w & low7
        let notSpace = (t ^ (ones &* 0x20)) &+ low7
        let notNewline = (t ^ (ones &* 0x0A)) &+ low7
        let notReturn = (t ^ (ones &* 0x0D)) &+ low7
        let notTab = (t ^ (ones &* 0x09)) &+ low7
        return ((notSpace & notNewline & notReturn & notTab) | w) & high
    }

    /// Index (0–7) of the first byte flagged in `mask`, which must not be zero.
    @inline(__always)
    static func firstLane(_ mask: UInt64) -> Int { mask.trailingZeroBitCount >> 3 }
}
