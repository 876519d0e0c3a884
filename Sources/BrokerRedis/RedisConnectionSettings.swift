// SPDX-License-Identifier: Apache-2.0

import BrokerCore

/// Everything one connection needs to reach and log in to the service.
struct RedisConnectionSettings: Sendable {
    var host: String
    var port: Int
    var username: String?
    /// Resolved at each (re)connect, so a rotated secret is used without a restart; never logged.
    var password: SecretReference?
    var database: Int
    /// `nil` for plain TCP.
    var tls: RedisTLSSettings?
    /// The longest a command waits for its reply before the connection is declared dead.
    var timeout: Duration
    /// How long one connection attempt (TCP, TLS, AUTH, SELECT, PING) may take: at least the command timeout, and
    /// never under 2 s, so a short `timeout_ms` does not make a remote service unreachable by construction.
    var attemptTimeout: Duration { max(timeout, .seconds(2)) }

    /// `host:port` for logs (IPv6 hosts in brackets).
    var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    init(_ redis: RedisSettings, timeout: Duration) {
        host = redis.host
        port = redis.port
        username = redis.username
        password = redis.password
        database = redis.database
        tls = redis.tls ? RedisTLSSettings(caFile: redis.tlsCAFile, serverName: redis.tlsServerName ?? redis.host) : nil
        self.timeout = timeout
    }
}

/// `tls: true`: what the service's certificate is checked against.
struct RedisTLSSettings: Sendable {
    /// CA bundle; the system store when `nil`.
    var caFile: String?
    /// The name (or IP address) the certificate must carry.
    var serverName: String
}
