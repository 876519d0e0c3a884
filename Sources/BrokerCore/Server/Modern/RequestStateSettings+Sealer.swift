// SPDX-License-Identifier: Apache-2.0

import Crypto
import Foundation

extension RequestStateSettings {
    /// Builds the sealer for these settings: call it once per configuration generation (start and every reload).
    ///
    /// Without ``key`` the material is ``ProcessRequestStateKey/material``: the same for every reload of this
    /// process, never shared with another replica. See ``keyMaterial()``.
    public func makeSealer(used: UsedRequestStates = .shared, now: @escaping @Sendable () -> Date = { Date() }) throws(ConfigError) -> RequestStateSealer {
        RequestStateSealer(keys: try keyMaterial(), ttl: .seconds(ttlSeconds), used: used, now: now)
    }

    /// The key material of this generation's sealed values (requestStates, session ids, cursors).
    ///
    /// With ``key`` the secret is read now (its UTF-8 bytes are the HKDF input), so a rotated key file takes effect
    /// at the next reload; values sealed with an earlier key then open only while it is ``previousKey``.
    ///
    /// - Throws: ``ConfigError`` at `server.request_state.key` (or `previous_key`) when a key cannot be read or is
    ///   shorter than ``minimumKeyBytes``.
    public func keyMaterial() throws(ConfigError) -> KeyMaterial {
        guard let key else { return .process }
        let current = try Self.read(key, path: "server.request_state.key")
        let previous = try previousKey.map { k throws(ConfigError) in try Self.read(k, path: "server.request_state.previous_key") }
        return KeyMaterial(current: current, previous: previous)
    }

    private static func read(_ key: SecretReference, path: String) throws(ConfigError) -> [UInt8] {
        let secret: Secret
        do { secret = try key.resolve() } catch {
            throw ConfigError(file: "configuration", path: path, reason: "\(error.reason) (the key cannot be read)")
        }
        let material = secret.withValue { Array($0.utf8) }
        if let problem = keyLengthProblem(byteCount: material.count) { throw ConfigError(file: "configuration", path: path, reason: problem) }
        return material
    }
}

/// The key material used when `server.request_state.key` is not configured.
///
/// 32 bytes from the system's secure generator, made once per process (a static, so reloads keep it and a state
/// issued before a reload still opens after it). Replicas do not share it: configure a key for more than one.
enum ProcessRequestStateKey {
    static let material: [UInt8] = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
}
