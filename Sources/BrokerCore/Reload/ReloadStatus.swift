// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// Read-only reload statistics, for `/readyz` and the metrics.
public struct ReloadStatus: Sendable, Equatable {
    /// Reloads applied since start.
    public var successes = 0
    /// Reloads refused since start.
    public var failures = 0
    /// Hash of the configuration serving now.
    public var activeHash: String
    /// Whether the latest attempt was refused (until a later one succeeds).
    public var lastFailed = false
    /// The latest refusal as `file:line: key: reason`, kept until a reload succeeds.
    public var lastError: String?
    /// Hash of the configuration the latest refused attempt read.
    public var failedHash: String?

    public init(activeHash: String) { self.activeHash = activeHash }

    /// The `config` part of the `/readyz` body. The error names a file, a key and a reason, never a value.
    var json: JSONValue {
        var o: [String: JSONValue] = [
            "reload": .string(lastFailed ? "failed" : "ok"), "active_sha256": .string(activeHash),
            "reloads_applied": .int(Int64(successes)), "reloads_failed": .int(Int64(failures)),
        ]
        if lastFailed {
            if let lastError { o["error"] = .string(lastError) }
            if let failedHash { o["refused_sha256"] = .string(failedHash) }
        }
        return .object(o)
    }
}
