// SPDX-License-Identifier: Apache-2.0

/// A tiny seeded generator (SplitMix64) held by value, so pure state machines can draw jitter deterministically
/// and tests can replay them; not for anything security-related.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
    private var state: UInt64

    /// The same seed gives the same sequence.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in 0..<1 from the top 53 bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }
}
