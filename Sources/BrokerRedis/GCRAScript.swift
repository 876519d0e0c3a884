// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Crypto

/// The GCRA bucket as a Lua script: one round trip, atomic across replicas, on the service's clock.
///
/// The bucket is one key holding the theoretical arrival time (TAT) in microseconds, as ``GCRA`` keeps it in
/// memory; it expires once the bucket would be full again, so idle buckets cost nothing.
enum GCRAScript {
    /// KEYS[1] bucket; ARGV[1] emission interval µs; ARGV[2] tolerance µs = (burst - 1) × interval.
    /// Returns -1 when allowed, else the microseconds until a token.
    static let source = """
        local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local tat = tonumber(redis.call('GET', KEYS[1]) or now); if tat < now then tat = now end
        local allow_at = tat - tonumber(ARGV[2])
        if now < allow_at then return allow_at - now end
        local new = tat + tonumber(ARGV[1]); redis.call('SET', KEYS[1], string.format('%d', new), 'PX', math.ceil((new - now) / 1000) + 1)
        return -1
        """

    /// The SHA-1 EVALSHA names the script by.
    static let sha1: String = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
        let hex = String(byte, radix: 16)
        return byte < 16 ? "0" + hex : hex
    }.joined()

    /// Bounds of the microsecond arguments: at least 1 µs; at most 1e15 µs (about 31 years), which keeps
    /// TAT + interval exact in Lua's doubles (below 2^53) and every conversion free of traps.
    static let longestMicroseconds = 1e15

    /// ARGV[1] and ARGV[2] for `limit`, as decimal integers.
    static func arguments(for limit: RateLimit) -> (interval: String, tolerance: String) {
        let rate = limit.ratePerSecond
        // `!(rate > 0)` also catches NaN; an infinite rate gives 1 µs.
        let interval = rate > 0 ? clamp(1e6 / rate) : longestMicroseconds
        let tolerance = min(interval * Double(max(0, limit.burst - 1)), longestMicroseconds)
        return (decimal(interval), decimal(tolerance))
    }

    /// The decision for the script's reply; `nil` when the reply is not an integer.
    static func decision(_ reply: RedisReply) -> RateDecision? {
        guard case .integer(let value) = reply else { return nil }
        guard value >= 0 else { return .allowed }
        return .limited(retryAfter: .microseconds(min(value, Int64(longestMicroseconds))))
    }

    private static func clamp(_ microseconds: Double) -> Double {
        guard microseconds.isFinite else { return longestMicroseconds }
        return min(max(microseconds.rounded(), 1), longestMicroseconds)
    }

    private static func decimal(_ microseconds: Double) -> String {
        // trap-ok: `microseconds` is finite and within 0...1e15 here.
        String(Int64(min(max(microseconds.rounded(), 0), longestMicroseconds)))
    }
}
