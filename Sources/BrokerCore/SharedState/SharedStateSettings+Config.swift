// SPDX-License-Identifier: Apache-2.0

import Foundation

extension BrokerConfiguration {
    /// Reads `server.shared_state: {redis: {...}, replicas, timeout_ms, key_prefix}`.
    static func readSharedState(_ s: ConfigNode) throws(ConfigError) -> SharedStateSettings {
        var out = SharedStateSettings()
        guard let r = try s.section("redis") else { throw s.error("redis", "is required (address, and password when the service needs one)") }
        out.redis = try readRedis(r)
        out.replicas = try readReplicaCount(s)
        out.timeoutMilliseconds = try s.int("timeout_ms", default: out.timeoutMilliseconds, range: 1...10_000)
        out.keyPrefix = try s.string("key_prefix", default: out.keyPrefix)
        guard out.keyPrefix.utf8.count <= 64, out.keyPrefix.allSatisfy({ $0.isASCII && !$0.isWhitespace && !$0.isNewline }) else {
            throw s.error("key_prefix", "must be at most 64 visible ASCII characters")
        }
        try s.finish()
        return out
    }

    static func readRedis(_ r: ConfigNode) throws(ConfigError) -> RedisSettings {
        var out = RedisSettings()
        let address = try r.string("address", default: "\(out.host):\(out.port)")
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port),
            case let host = address[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]")), !host.isEmpty, host.utf8.count <= 253
        else { throw r.error("address", "must be host:port, e.g. redis.internal:6379") }
        out.host = host
        out.port = port
        out.username = try r.optionalString("username")
        out.password = try r.secret("password", required: false)
        out.database = try r.int("database", default: out.database, range: 0...15)
        out.tls = try r.bool("tls", default: false)
        out.tlsCAFile = try r.optionalString("tls_ca_file")
        out.tlsServerName = try r.optionalString("tls_server_name")
        if !out.tls, out.tlsCAFile != nil || out.tlsServerName != nil { throw r.error("tls", "tls_ca_file and tls_server_name need tls: true") }
        if let ca = out.tlsCAFile, !FileManager.default.isReadableFile(atPath: ca) { throw r.error("tls_ca_file", "is not a readable file") }
        try r.finish()
        return out
    }

    /// `replicas: 3` or `replicas: env:NAME` (the variable must hold a whole number of at least 1).
    static func readReplicaCount(_ s: ConfigNode) throws(ConfigError) -> ReplicaCount {
        guard let text = try s.optionalString("replicas") else { return .fixed(1) }
        if text.hasPrefix("env:") {
            let name = String(text.dropFirst(4))
            guard !name.isEmpty, let raw = getenv(name), (Int(String(cString: raw).trimmingCharacters(in: .whitespaces)) ?? 0) >= 1 else {
                throw s.error("replicas", "\(text) must name an environment variable holding a whole number of at least 1")
            }
            return .environment(name)
        }
        guard let n = Int(text), (1...10_000).contains(n) else { throw s.error("replicas", "must be a whole number 1...10000 or env:NAME") }
        return .fixed(n)
    }
}
