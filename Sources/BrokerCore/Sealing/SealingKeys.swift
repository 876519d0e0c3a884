// SPDX-License-Identifier: Apache-2.0

import Crypto

/// The secret bytes every sealed value (requestStates, session ids, cursors) is keyed from: `server.request_state.key`
/// and, while a key is being rotated, `server.request_state.previous_key`.
public struct KeyMaterial: Sendable {
    /// Seals everything new; opens first.
    public let current: [UInt8]
    /// Only opens: values sealed before the rotation stay valid until they expire.
    public let previous: [UInt8]?

    /// Material from the given bytes.
    public init(current: [UInt8], previous: [UInt8]? = nil) {
        self.current = current
        self.previous = previous
    }

    /// This process's own material (``ProcessRequestStateKey``): kept across reloads, never shared with a replica.
    public static var process: KeyMaterial { KeyMaterial(current: ProcessRequestStateKey.material) }
}

/// AES-256-GCM under keys derived (HKDF-SHA-256) from ``KeyMaterial`` with one purpose's `info` label, so a key
/// derived for session ids is useless for cursors and the other way round. Seals with the current key; opens with
/// the current key, then the previous one.
struct SealingKeys: Sendable {
    private let current: SymmetricKey
    private let previous: SymmetricKey?

    init(_ material: KeyMaterial, info: String) {
        let label = Array(info.utf8)
        current = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: material.current), info: label, outputByteCount: 32)
        previous = material.previous.map { HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: $0), info: label, outputByteCount: 32) }
    }

    /// `nonce (12) | ciphertext | tag (16)`, or `nil` should the library ever fail (callers then fail closed).
    func seal(_ plaintext: [UInt8], authenticating aad: [UInt8]) -> [UInt8]? {
        guard let box = try? AES.GCM.seal(plaintext, using: current, authenticating: aad), let combined = box.combined else { return nil }
        return Array(combined)
    }

    /// The plaintext of `combined`, or `nil` when neither key authenticates it (altered, or another key's).
    func open(_ combined: ArraySlice<UInt8>, authenticating aad: [UInt8]) -> [UInt8]? {
        guard let box = try? AES.GCM.SealedBox(combined: combined) else { return nil }
        if let plain = try? AES.GCM.open(box, using: current, authenticating: aad) { return Array(plain) }
        if let previous, let plain = try? AES.GCM.open(box, using: previous, authenticating: aad) { return Array(plain) }
        return nil
    }
}

/// Big-endian fixed-width integers for the sealed layouts (requestStates, session ids, cursors).
enum SealedBytes {
    static func append(_ v: UInt64, to out: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    /// Big-endian UInt64 at `offset`; the caller has checked the length.
    static func read(_ bytes: ArraySlice<UInt8>, at offset: Int) -> UInt64 {
        var v: UInt64 = 0
        let start = bytes.startIndex + offset
        for b in bytes[start..<(start + 8)] { v = v << 8 | UInt64(b) }
        return v
    }
}
