// SPDX-License-Identifier: Apache-2.0

import Crypto
import Foundation

extension RequestStateSettings {
    /// Builds the sealer for these settings: call it once per configuration generation (start and every reload).
    ///
    /// With ``key`` the secret is read now (its UTF-8 bytes are the HKDF input), so a rotated key file takes effect
    /// at the next reload; states sealed with the previous key are then refused as altered, and their clients call
    /// again. Without a key the material is ``ProcessRequestStateKey/material``: the same for every reload of this
    /// process, never shared with another replica.
    ///
    /// - Throws: ``ConfigError`` at `server.request_state.key` when the key cannot be read or is shorter than
    ///   ``minimumKeyBytes``.
    public func makeSealer(used: UsedRequestStates = .shared, now: @escaping @Sendable () -> Date = { Date() }) throws(ConfigError) -> RequestStateSealer {
        let material: [UInt8]
        if let key {
            let secret: Secret
            do { secret = try key.resolve() } catch {
                throw ConfigError(file: "configuration", path: "server.request_state.key", reason: "\(error.reason) (the key cannot be read)")
            }
            material = secret.withValue { Array($0.utf8) }
            if let problem = Self.keyLengthProblem(byteCount: material.count) {
                throw ConfigError(file: "configuration", path: "server.request_state.key", reason: problem)
            }
        } else {
            material = ProcessRequestStateKey.material
        }
        return RequestStateSealer(keyMaterial: material, ttl: .seconds(ttlSeconds), used: used, now: now)
    }
}

/// The key material used when `server.request_state.key` is not configured.
///
/// 32 bytes from the system's secure generator, made once per process (a static, so reloads keep it and a state
/// issued before a reload still opens after it). Replicas do not share it: configure a key for more than one.
enum ProcessRequestStateKey {
    static let material: [UInt8] = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
}
