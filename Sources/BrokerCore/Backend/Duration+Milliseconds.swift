// SPDX-License-Identifier: Apache-2.0

extension Duration {
    /// Whole milliseconds, truncated: for SQL timeouts, backoff draws and log fields.
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// The duration in seconds as a Double (retry hints, timer waits).
    public var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
