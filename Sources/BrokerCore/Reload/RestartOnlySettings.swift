// SPDX-License-Identifier: Apache-2.0

/// Settings a reload cannot apply because something built once at start depends on them: the listener (address,
/// path, connection idle timeout), the session table, the log handler, the HTTP front door and the metrics listener
/// (whether metrics are recorded at all is decided with it), and the shared-state connection.
///
/// A reload keeps the serving values (so the new generation describes what actually runs) and warns with the keys
/// that differ. A setting added later that needs a restart gets one entry here.
public enum RestartOnlySettings {
    /// One setting: its key path, and how to compare and keep it.
    struct Entry: Sendable {
        let key: String
        let differs: @Sendable (ServerSettings, ServerSettings) -> Bool
        let keep: @Sendable (ServerSettings, inout ServerSettings) -> Void

        init<Value: Equatable & Sendable>(_ key: String, _ path: any WritableKeyPath<ServerSettings, Value> & Sendable) {
            self.key = key
            differs = { $0[keyPath: path] != $1[keyPath: path] }
            keep = { serving, next in next[keyPath: path] = serving[keyPath: path] }
        }
    }

    static let entries: [Entry] = [
        Entry("server.http.host", \.http.host),
        Entry("server.http.port", \.http.port),
        Entry("server.http.path", \.http.path),
        Entry("server.http.idle_timeout_s", \.http.idleTimeoutSeconds),
        Entry("server.http.max_sessions", \.http.maxSessions),
        Entry("server.http.max_sessions_per_principal", \.http.maxSessionsPerPrincipal),
        Entry("server.http.session_idle_timeout_s", \.http.sessionIdleTimeoutSeconds),
        Entry("server.log_level", \.logLevel),
        Entry("server.limits.http_rate", \.limits.httpRate),
        Entry("server.limits.max_in_flight", \.limits.maxInFlight),
        Entry("server.limits.memory_watermark_mb", \.limits.memoryWatermarkMB),
        Entry("server.limits.gzip_min_bytes", \.limits.gzipMinBytes),
        Entry("server.metrics", \.metrics),
        Entry("server.shared_state", \.sharedState),
    ]

    /// Puts the serving values of the restart-only settings into `next`; returns the keys whose requested value
    /// differed (to be named in a warning).
    public static func keep(serving: ServerSettings, into next: inout ServerSettings) -> [String] {
        var changed: [String] = []
        for entry in entries {
            if entry.differs(serving, next) { changed.append(entry.key) }
            entry.keep(serving, &next)
        }
        return changed
    }
}
