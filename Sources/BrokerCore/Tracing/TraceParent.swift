// SPDX-License-Identifier: Apache-2.0

/// A 128-bit W3C trace id, held as two words so that making and comparing ids allocates nothing.
public struct TraceID: Sendable, Hashable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// W3C forbids the all-zero id.
    public var isValid: Bool { high != 0 || low != 0 }

    /// 32 lowercase hex characters, as in `traceparent` and as the broker's correlation id.
    public var hex: String { HexFormat.hex(high) + HexFormat.hex(low) }
}

/// A 64-bit W3C span (parent) id.
public struct SpanID: Sendable, Hashable {
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// W3C forbids the all-zero id.
    public var isValid: Bool { value != 0 }

    /// 16 lowercase hex characters.
    public var hex: String { HexFormat.hex(value) }
}

/// The W3C Trace Context of one span: what `traceparent` and `tracestate` carry.
public struct TraceParent: Sendable, Hashable {
    public var traceID: TraceID
    public var spanID: SpanID
    /// `trace-flags`; bit 0 is "sampled".
    public var flags: UInt8
    /// The vendor list (`tracestate`), already validated and capped; `nil` when absent or dropped.
    public var traceState: String?

    public init(traceID: TraceID, spanID: SpanID, flags: UInt8, traceState: String? = nil) {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
        self.traceState = traceState
    }

    /// Whether the caller recorded (sampled) its span.
    public var isSampled: Bool { flags & 1 == 1 }

    /// The `traceparent` header value we send: always version 00.
    public var header: String { "00-\(traceID.hex)-\(spanID.hex)-\(HexFormat.hex(flags))" }

    /// Parses a `traceparent` value strictly (W3C Trace Context, version 00 rules); `nil` when invalid, in which
    /// case the caller starts a new trace.
    ///
    /// Version 00 must be exactly 55 characters. A higher version (not `ff`) may carry more fields after a `-`;
    /// only its first four are read. Hex must be lowercase; all-zero trace or span ids are invalid. Only the first
    /// 56 bytes are ever looked at, so a huge value costs nothing.
    public static func parse(_ value: String) -> TraceParent? {
        var value = value
        return value.withUTF8 { parse(bytes: $0) }
    }

    static func parse(bytes b: UnsafeBufferPointer<UInt8>) -> TraceParent? {
        guard b.count >= 55 else { return nil }
        guard let version = HexFormat.parse(b, from: 0, count: 2) else { return nil }
        if version == 0 {
            guard b.count == 55 else { return nil }
        } else {
            // 0xff is forbidden; a future version may append fields, separated by '-'.
            guard version != 0xff, b.count == 55 || b[55] == UInt8(ascii: "-") else { return nil }
        }
        guard b[2] == UInt8(ascii: "-"), b[35] == UInt8(ascii: "-"), b[52] == UInt8(ascii: "-") else { return nil }
        guard let high = HexFormat.parse(b, from: 3, count: 16), let low = HexFormat.parse(b, from: 19, count: 16),
            let span = HexFormat.parse(b, from: 36, count: 16), let flags = HexFormat.parse(b, from: 53, count: 2)
        else { return nil }
        let traceID = TraceID(high: high, low: low)
        guard traceID.isValid, span != 0 else { return nil }
        // Version 00 defines only the sampled bit; later versions may define more, which we do not forward.
        return TraceParent(traceID: traceID, spanID: SpanID(span), flags: UInt8(truncatingIfNeeded: version == 0 ? flags : flags & 1))
    }
}

/// Fixed-width lowercase hex without Foundation and without intermediate strings.
enum HexFormat {
    private static let digits = Array("0123456789abcdef".utf8)

    /// 16 lowercase hex digits.
    static func hex(_ v: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { out in
            for i in 0..<16 { out[i] = digits[Int(truncatingIfNeeded: (v >> (60 - 4 * UInt64(i))) & 0xF)] }
            return 16
        }
    }

    /// 2 lowercase hex digits.
    static func hex(_ v: UInt8) -> String {
        String(unsafeUninitializedCapacity: 2) { out in
            out[0] = digits[Int(v >> 4)]
            out[1] = digits[Int(v & 0xF)]
            return 2
        }
    }

    /// `count` (≤ 16) lowercase hex digits at `from`; `nil` on any other byte (uppercase included, as W3C requires).
    static func parse(_ b: UnsafeBufferPointer<UInt8>, from: Int, count: Int) -> UInt64? {
        var v: UInt64 = 0
        for i in from..<(from + count) {
            let c = b[i]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c &- UInt8(ascii: "a") &+ 10
            default: return nil
            }
            v = v << 4 | UInt64(d)
        }
        return v
    }
}
