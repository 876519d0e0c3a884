// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Crypto

/// The GCRA bucket as a Lua script: one round trip, atomic across replicas, on the service's clock.
///
/// The bucket is one key holding the theoretical arrival time (TAT) in microseconds, as ``GCRA`` keeps it in
/// memory; it expires once the bucket would be full again, so idle buckets cost nothing.
enum GCRAScript {
    /// KEYS[i] bucket i; ARGV[2i-1] its emission interval µs; ARGV[2i] its tolerance µs = (burst - 1) × interval.
    /// All or none: when any bucket is short of a token nothing is written and the reply is `{i, µs until a token}`
    /// for the bucket with the longest wait; otherwise every bucket is charged and the reply is -1.
    static let source = """
        local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local worst, wait, next = 0, 0, {}
        for i, key in ipairs(KEYS) do
          local tat = tonumber(redis.call('GET', key) or now); if tat < now then tat = now end
          local allow_at = tat - tonumber(ARGV[2 * i])
          if now < allow_at and allow_at - now > wait then worst, wait = i, allow_at - now end
          next[i] = tat + tonumber(ARGV[2 * i - 1])
        end
        if worst > 0 then return {worst, wait} end
        for i, key in ipairs(KEYS) do
          redis.call('SET', key, string.format('%d', next[i]), 'PX', math.ceil((next[i] - now) / 1000) + 1)
        end
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

    /// The arguments of EVAL/EVALSHA after the script (its SHA or source): the key count, the keys, then each
    /// bucket's interval and tolerance.
    static func arguments(for buckets: [SharedBucket], name: (String) -> String) -> [String] {
        var out = [String(buckets.count)]
        out.reserveCapacity(1 + 3 * buckets.count)
        for b in buckets { out.append(name(b.key)) }
        for b in buckets {
            let (interval, tolerance) = arguments(for: b.limit)
            out.append(interval)
            out.append(tolerance)
        }
        return out
    }

    /// ARGV[1] and ARGV[2] for `limit`, as decimal integers.
    static func arguments(for limit: RateLimit) -> (interval: String, tolerance: String) {
        let rate = limit.ratePerSecond
        // `!(rate > 0)` also catches NaN; an infinite rate gives 1 µs.
        let interval = rate > 0 ? clamp(1e6 / rate) : longestMicroseconds
        let tolerance = min(interval * Double(max(0, limit.burst - 1)), longestMicroseconds)
        return (decimal(interval), decimal(tolerance))
    }

    /// What the script's reply means for `count` buckets: `.success(nil)` when all were charged, the refusing
    /// bucket (0-based) and its wait otherwise; `.failure` for a reply the script cannot have sent.
    static func decision(_ reply: RedisReply, count: Int) -> Result<SharedRefusal?, GCRAReplyError> {
        switch reply {
        case .integer(-1):
            return .success(nil)
        case .array(let parts):
            // trap-ok: the bounds are checked before the conversion and the subtraction.
            guard parts.count == 2, case .integer(let index) = parts[0], case .integer(let wait) = parts[1], index >= 1, index <= Int64(count), wait > 0
            else { return .failure(GCRAReplyError()) }
            return .success(SharedRefusal(bucket: Int(index) - 1, retryAfter: .microseconds(min(wait, Int64(longestMicroseconds)))))
        default:
            return .failure(GCRAReplyError())
        }
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

/// A GCRA script reply of the wrong shape (a hostile or broken service).
struct GCRAReplyError: Error {}
