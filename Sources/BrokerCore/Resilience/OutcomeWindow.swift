// SPDX-License-Identifier: Apache-2.0

/// Success and failure counts over a sliding time window, kept in a fixed number of buckets so memory stays the
/// same whatever the call rate; the window slides one bucket (a tenth of its length) at a time.
struct OutcomeWindow: Sendable, Equatable {
    struct Bucket: Sendable, Equatable {
        var index: Int64 = .min
        var calls = 0
        var failures = 0
    }

    static let bucketCount = 10
    let bucketWidth: Duration
    private var origin: ContinuousClock.Instant?
    private var buckets = [Bucket](repeating: Bucket(), count: bucketCount)

    init(window: Duration) {
        // A zero or negative window would divide by zero; a millisecond is "no window" for practical purposes.
        bucketWidth = max(window / Self.bucketCount, .milliseconds(1))
    }

    mutating func record(success: Bool, now: ContinuousClock.Instant) {
        if origin == nil { origin = now }
        let i = index(now)
        let n = Int64(Self.bucketCount)
        let slot = Int((i % n + n) % n)
        if buckets[slot].index != i { buckets[slot] = Bucket(index: i) }
        buckets[slot].calls += 1
        if !success { buckets[slot].failures += 1 }
    }

    /// Calls and failures recorded in the window ending at `now`.
    func totals(now: ContinuousClock.Instant) -> (calls: Int, failures: Int) {
        let current = index(now)
        let live = buckets.filter { $0.index != .min && $0.index <= current && $0.index > current - Int64(Self.bucketCount) }
        return (live.reduce(0) { $0 + $1.calls }, live.reduce(0) { $0 + $1.failures })
    }

    mutating func reset() {
        buckets = [Bucket](repeating: Bucket(), count: Self.bucketCount)
    }

    private func index(_ now: ContinuousClock.Instant) -> Int64 {
        guard let origin else { return 0 }
        // Clamped so a pathological clock gap cannot trap the Int64 conversion.
        let raw = ((now - origin) / bucketWidth).rounded(.down)
        return Int64(min(max(raw, -1e15), 1e15))
    }
}
