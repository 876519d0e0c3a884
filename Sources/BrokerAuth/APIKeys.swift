// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Crypto

/// Matches an API key against the configured key hashes.
///
/// Only SHA-256 hashes are stored, so a leaked configuration file yields no usable key. The key is high-entropy
/// (32 random bytes), which is why a plain, unsalted hash is enough here.
public struct APIKeyVerifier: Sendable {
    /// The prefix every broker API key carries; it tells a key from a JWT without parsing either.
    public static let prefix = "mcpb_"

    private let entries: [APIKeyEntry]

    public init(_ entries: [APIKeyEntry]) { self.entries = entries }

    /// The principal of the key, or `nil` when no configured hash matches.
    ///
    /// The digest is compared against every stored hash in constant time, without stopping at a match, so the
    /// response time says nothing about which hash, or how much of one, matched.
    public func principal(forKey key: String) -> Principal? {
        let digest = Array(SHA256.hash(data: Array(key.utf8)))
        var found: Principal?
        for entry in entries {
            var diff = UInt8(entry.sha256.count == digest.count ? 0 : 1)
            for i in 0..<digest.count {
                diff |= digest[i] ^ (i < entry.sha256.count ? entry.sha256[i] : 0)
            }
            if diff == 0 { found = entry.principal }
        }
        return found
    }
}

/// Creates new API keys (`mcp-broker hash-key` and operators' provisioning scripts).
public enum APIKeyGenerator {
    /// A fresh key and the hash to put in configuration.
    /// - Returns: `key`: `mcpb_` + base64url (no padding) of 32 random bytes; `hash`: `sha256:` + lowercase hex
    ///   of SHA-256 of the whole key text.
    public static func generate() -> (key: String, hash: String) {
        var rng = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for _ in 0..<4 {
            let word = rng.next()
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        let key = APIKeyVerifier.prefix + Base64URL.encode(bytes)
        return (key, hash(ofKey: key))
    }

    /// The configuration form of a key's hash: `sha256:<64 lowercase hex digits>`.
    public static func hash(ofKey key: String) -> String {
        "sha256:" + Hex.lowercase(SHA256.hash(data: Array(key.utf8)))
    }
}
