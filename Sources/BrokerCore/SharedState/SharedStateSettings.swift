// SPDX-License-Identifier: Apache-2.0

import Foundation

/// `server.shared_state`: the store the replicas of one deployment share (sessions, confirmations, single-use
/// tokens and global rate limits). Without the section the broker keeps all of it in its own memory, as one
/// process always did.
public struct SharedStateSettings: Sendable, Equatable {
    /// `redis`: where the Redis-protocol service is and how to log in.
    public var redis = RedisSettings()
    /// `replicas`: how many replicas share the limits. While the store is unreachable each replica enforces
    /// rate / replicas locally, so the deployment as a whole stays near the configured rate.
    public var replicas: ReplicaCount = .fixed(1)
    /// `timeout_ms`: the longest a call waits for the store before degrading to local state (1...10000, default 100).
    public var timeoutMilliseconds = 100
    /// `key_prefix`: put before every key and channel, so deployments can share one Redis (default `mcp-broker:`).
    public var keyPrefix = "mcp-broker:"

    /// Default settings (a local Redis on 6379, one replica).
    public init() {}
}

/// `server.shared_state.redis`.
public struct RedisSettings: Sendable, Equatable {
    /// `address`: `host:port` (default `127.0.0.1:6379`).
    public var host = "127.0.0.1"
    /// The port of `address`.
    public var port = 6379
    /// `username` (Redis 6 ACL user); `nil` logs in with the password only.
    public var username: String?
    /// `password`: `env:NAME` or `file:/path`; `nil` when the service needs none.
    public var password: SecretReference?
    /// `database`: the logical database `SELECT`ed after connecting (0...15, default 0).
    public var database = 0
    /// `tls`: whether to speak TLS to the service.
    public var tls = false
    /// `tls_ca_file`: CA bundle that signs the service's certificate (the system store when absent).
    public var tlsCAFile: String?
    /// `tls_server_name`: name checked in the certificate (the host of `address` when absent).
    public var tlsServerName: String?

    /// Defaults: 127.0.0.1:6379, no password, database 0, plain TCP.
    public init() {}
}

/// How many replicas share the limits: a number, or an environment variable that holds one (set by the Helm
/// chart from `replicaCount`, or the HPA's maximum, through the pod spec).
public enum ReplicaCount: Sendable, Equatable {
    /// A fixed count.
    case fixed(Int)
    /// `env:NAME`: read at start and at each reload.
    case environment(String)

    /// The count now: at least 1, whatever the environment holds (an unset or unusable variable counts 1 and is
    /// reported by the configuration check at start).
    public var resolved: Int {
        switch self {
        case .fixed(let n): return max(1, n)
        case .environment(let name):
            guard let raw = getenv(name), let n = Int(String(cString: raw).trimmingCharacters(in: .whitespaces)), n >= 1 else { return 1 }
            return min(n, 10_000)
        }
    }
}
