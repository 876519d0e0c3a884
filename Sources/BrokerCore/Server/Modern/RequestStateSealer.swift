// SPDX-License-Identifier: Apache-2.0

import Crypto
import Foundation

/// Seals and opens the `requestState` of an MRTR confirmation (MCP 2026-07-28).
///
/// The client echoes the state back in round 2, so it is attacker-controlled. It is AES-256-GCM sealed with a key
/// derived (HKDF-SHA-256) from the configured key material: it cannot be altered or forged, it carries its issue
/// time, expiry, a random identity and the hashes of what it is bound to (tenant, principal, tool, arguments), and
/// any replica holding the same key material can open it without server memory. Only single use needs state:
/// the ``UsedRequestStates`` set given at init.
///
/// Token: base64url (no padding) of `version (1) | nonce (12) | ciphertext (160) | tag (16)`; the version byte is
/// also the AEAD's associated data, so it cannot be swapped without failing authentication.
public final class RequestStateSealer: Sendable {
    /// The format version: first byte of every token.
    static let version: UInt8 = 1
    /// The HKDF `info`: a key derived for requestStates is useless for anything else the same secret keys.
    static let keyInfo = "mcp-broker requestState v1"
    /// Tokens longer than this are refused before any decoding (a v1 token is 252 characters).
    static let maxTokenLength = 8 * 1024
    /// How far in the future an issue time may lie (clock skew between replicas) before the state is refused.
    static let futureSkewMilliseconds: Int64 = 60_000
    /// Decoded size of a v1 token.
    static let tokenByteCount = 1 + 12 + RequestStatePayload.byteCount + 16

    private let keys: SealingKeys
    private let ttlMilliseconds: Int64
    let used: UsedRequestStates
    let now: @Sendable () -> Date

    /// A sealer keyed from `keyMaterial`; states it seals expire after `ttl`.
    ///
    /// - Parameters:
    ///   - keyMaterial: the input key material (replicas that must verify each other's states use the same bytes).
    ///   - ttl: how long a state stays valid (negative counts as zero).
    ///   - used: the replay set; sealers share single use only when given the same instance.
    ///   - now: the clock (injected by tests).
    public convenience init(keyMaterial: [UInt8], ttl: Duration, used: UsedRequestStates = .shared, now: @escaping @Sendable () -> Date = { Date() }) {
        self.init(keys: KeyMaterial(current: keyMaterial), ttl: ttl, used: used, now: now)
    }

    /// A sealer keyed from `keys`: seals with the current key, opens with the current, then the previous one.
    public init(keys: KeyMaterial, ttl: Duration, used: UsedRequestStates = .shared, now: @escaping @Sendable () -> Date = { Date() }) {
        self.keys = SealingKeys(keys, info: Self.keyInfo)
        ttlMilliseconds = Self.milliseconds(ttl)
        self.used = used
        self.now = now
    }

    /// A fresh sealed token (base64url, no padding) for `binding`.
    ///
    /// Sealing cannot fail with a 32-byte key; should the library ever throw, the result is the empty string, which
    /// ``open(_:for:)`` refuses as malformed, so the failure stays closed.
    public func seal(_ binding: RequestStateBinding) -> String {
        let issued = Self.milliseconds(now())
        let payload = RequestStatePayload(
            issuedAtMilliseconds: issued, expiresAtMilliseconds: Self.plus(issued, ttlMilliseconds),
            id: .random(), binding: RequestStatePayload.bindingHashes(binding))
        guard let sealed = keys.seal(payload.bytes, authenticating: [Self.version]) else { return "" }
        return Base64URL.encode([Self.version] + sealed)
    }

    /// Verifies `token` for `binding`; on success marks it used, so it opens only once.
    ///
    /// Checks in order: length cap, base64url, version and size (`malformed`); authenticated decryption
    /// (`tampered`); expiry, or an issue time more than 60 s ahead (`expired`); the binding (`mismatched`); single
    /// use (`replayed`). A refused state is not marked used.
    public func open(_ token: String, for binding: RequestStateBinding) -> Result<Void, RequestStateRefusal> {
        switch verify(token, for: binding) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let (payload, current)):
            guard used.insert(payload.id, expiresAt: payload.expiresAtMilliseconds, now: current) else { return .failure(.replayed) }
            return .success(())
        }
    }

    /// Every check of ``open(_:for:)`` but single use: the payload of a state that may run, and the time it was
    /// checked at (unix ms). Marks nothing.
    func verify(_ token: String, for binding: RequestStateBinding) -> Result<(RequestStatePayload, Int64), RequestStateRefusal> {
        guard token.utf8.count <= Self.maxTokenLength, let bytes = Base64URL.decodeCanonical(token),
            bytes.first == Self.version, bytes.count == Self.tokenByteCount
        else { return .failure(.malformed) }
        guard let plaintext = keys.open(bytes.dropFirst(), authenticating: [Self.version]) else { return .failure(.tampered) }
        // Authenticated, so we wrote it; a wrong size would mean a format bug, not an attack.
        guard let payload = RequestStatePayload(bytes: Array(plaintext)) else { return .failure(.malformed) }
        let current = Self.milliseconds(now())
        guard current < payload.expiresAtMilliseconds, payload.issuedAtMilliseconds <= Self.plus(current, Self.futureSkewMilliseconds) else {
            return .failure(.expired)
        }
        guard payload.binding == RequestStatePayload.bindingHashes(binding) else { return .failure(.mismatched) }
        return .success((payload, current))
    }

    /// Unix time in milliseconds, clamped to Int64 (a clock cannot trap the broker).
    static func milliseconds(_ date: Date) -> Int64 {
        let ms = (date.timeIntervalSince1970 * 1000).rounded()
        // trap-ok: Int64(exactly:) returns nil for NaN and out-of-range values instead of trapping; those clamp.
        if let exact = Int64(exactly: ms) { return exact }
        return ms > 0 ? Int64.max : Int64.min
    }

    /// A duration in whole milliseconds, clamped to 0...Int64.max.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return Int64.max }
        return plus(whole, attoseconds / 1_000_000_000_000_000)
    }

    /// `a + b`, saturating instead of trapping.
    static func plus(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? Int64.max : Int64.min) : sum
    }
}
