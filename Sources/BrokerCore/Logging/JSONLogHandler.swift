// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import MCPCore
import Synchronization

/// A swift-log handler that writes one JSON object per line to stderr.
///
/// stdout belongs to the stdio transport, so logs never go there. Every line carries the metadata of the logger
/// that wrote it (`correlation_id`, `principal`, `tenant`, `backend`, `tool` on call paths). A value whose type
/// is ``Secret`` prints as `<redacted>` by construction, and keys that look like credentials are masked too.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let label: String

    static let writeLock = Mutex(())
    static let sensitiveKeys: Set<String> = ["password", "token", "api_key", "apikey", "secret", "authorization", "credential"]

    public init(label: String, level: Logger.Level = .info) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var o: [String: JSONValue] = [
            "ts": .string(Self.timestamp()), "level": .string(event.level.rawValue), "logger": .string(label),
            "msg": .string(event.message.description),
        ]
        for (k, v) in metadata { o[k] = Self.json(v, key: k) }
        if let extra = event.metadata { for (k, v) in extra { o[k] = Self.json(v, key: k) } }
        var bytes = JSONWriter.encode(.object(o))
        bytes.append(0x0A)
        Self.writeLock.withLock { _ in
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(2, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                    if n <= 0 { break }
                    offset += n
                }
            }
        }
    }

    static func json(_ v: Logger.Metadata.Value, key: String) -> JSONValue {
        if sensitiveKeys.contains(key.lowercased()) { return "<redacted>" }
        switch v {
        case .string(let s): return .string(s)
        case .stringConvertible(let c): return .string(c.description)
        case .array(let a): return .array(a.map { json($0, key: "") })
        case .dictionary(let d): return .object(d.mapValues { json($0, key: "") })
        }
    }

    /// UTC ISO 8601 with milliseconds, without Foundation formatters (not Sendable, and slow).
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = time_t(ts.tv_sec)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        let ms = Int32(ts.tv_nsec / 1_000_000)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(ms, 3))Z"
    }
}

/// Bootstraps swift-log once per process with the JSON handler.
public enum BrokerLogging {
    private static let done = Mutex(false)

    /// Installs ``JSONLogHandler`` at `level`; later calls are ignored (swift-log allows one bootstrap).
    public static func bootstrap(level: Logger.Level) {
        let first = done.withLock { d in
            defer { d = true }
            return !d
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
    }
}
