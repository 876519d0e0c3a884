// SPDX-License-Identifier: Apache-2.0

/// `server.request_state`: how the `requestState` of an MRTR confirmation (MCP 2026-07-28) is sealed.
///
/// With `key`, every replica configured with the same secret verifies the others' states. Without it the broker
/// uses 32 random bytes generated once per process (kept across reloads): states then open only on the replica
/// that issued them, which is fine for one instance and breaks round 2 behind a load balancer without affinity.
public struct RequestStateSettings: Sendable, Equatable {
    /// The fewest bytes (UTF-8) a configured key may have: 256 bits of material, if it is random.
    public static let minimumKeyBytes = 32

    /// `key`: `env:NAME` or `file:/path` holding at least ``minimumKeyBytes`` bytes; `nil` for a per-process key.
    /// Read again at each reload, so a rotated file takes effect then (states sealed with the old key are refused).
    public var key: SecretReference?
    /// `previous_key`: the key being rotated out (same rules as `key`). Sealed values (requestStates, session ids,
    /// cursors) are always sealed with `key` and opened with `key`, then with this one, so a rolling rotation does
    /// not end sessions or break cursors: set the new `key` and the old one here, and drop it after the longest
    /// lifetime (the session idle timeout) has passed.
    public var previousKey: SecretReference?
    /// `ttl_seconds`: how long a confirmation request stays answerable (1...86400, default 300).
    public var ttlSeconds = 300

    /// Settings with the given key and lifetime.
    public init(key: SecretReference? = nil, ttlSeconds: Int = 300) {
        self.key = key
        self.ttlSeconds = ttlSeconds
    }

    /// Why a key of `byteCount` bytes is refused, or `nil` when it is long enough.
    static func keyLengthProblem(byteCount: Int) -> String? {
        guard byteCount < minimumKeyBytes else { return nil }
        return "the key must be at least \(minimumKeyBytes) bytes (it has \(byteCount)); generate one with `openssl rand -base64 48`"
    }
}

extension BrokerConfiguration {
    /// Reads `server.request_state: {key, previous_key, ttl_seconds}`; the keys must exist now and be long enough.
    static func readRequestState(_ r: ConfigNode) throws(ConfigError) -> RequestStateSettings {
        var out = RequestStateSettings()
        for (name, path) in [("key", \RequestStateSettings.key), ("previous_key", \RequestStateSettings.previousKey)] {
            guard let key = try r.secret(name, required: false) else { continue }
            // `secret` has resolved it once already; read it again for its length (never printed).
            let secret: Secret
            do { secret = try key.resolve() } catch { throw r.error(name, "\(error.reason) (credential missing)") }
            if let problem = RequestStateSettings.keyLengthProblem(byteCount: secret.withValue { $0.utf8.count }) { throw r.error(name, problem) }
            out[keyPath: path] = key
        }
        if out.key == nil && out.previousKey != nil { throw r.error("previous_key", "needs key: previous_key only opens what was sealed before a rotation") }
        out.ttlSeconds = try r.int("ttl_seconds", default: out.ttlSeconds, range: 1...86_400)
        try r.finish()
        return out
    }
}
