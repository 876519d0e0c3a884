// SPDX-License-Identifier: Apache-2.0

/// Conversions for numbers that come from outside (tool arguments, backend documents, token endpoints).
///
/// Swift's `Int64(someDouble)` traps on NaN, infinities and values beyond ±2^63, and a trap ends the process — every
/// tenant's calls with it. Every conversion of an outside `Double` to an integer goes through these instead.
extension Int64 {
    /// `value` rounded to the nearest integer (ties away from zero), or `nil` when it is not finite or does not fit.
    @inlinable public init?(roundingChecked value: Double) {
        let r = value.rounded()
        // 2^63 is exactly representable as a Double; Int64's range is [-2^63, 2^63).
        guard r.isFinite, r >= -9_223_372_036_854_775_808.0, r < 9_223_372_036_854_775_808.0 else { return nil }
        self.init(r)
    }

    /// Whole cents of a decimal amount (`12.345` → 1235), or `nil` when the amount cannot be represented.
    @inlinable public init?(centsOf amount: Double) {
        let scaled = amount * 100
        self.init(roundingChecked: scaled)
    }
}

extension Double {
    /// The value as text without a trailing `.0` when it is a whole number that prints exactly ("5", "3.5", "1e+20").
    @inlinable public var plainText: String {
        if abs(self) < 1e15, let i = Int64(roundingChecked: self), Double(i) == self { return String(i) }
        return String(self)
    }
}
