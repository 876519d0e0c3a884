// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Seals and opens the `Mcp-Session-Id` of a 2025-11-25 HTTP session when replicas share state.
///
/// The id is base64url (no padding) of `version (1) | nonce (12) | AES-256-GCM(``SessionClaims``) | tag (16)`: always
/// 223 visible ASCII characters. Any replica holding `server.request_state.key` opens it (HKDF info
/// `mcp-broker session v1`, so the derived key serves nothing else) and learns the session's owner, revision,
/// client name and elicitation support without asking another replica. Whether the session still *lives* is the
/// shared store's `sess:<sid>` key, not the id: an id cannot be revoked, a key can be deleted.
public final class SessionIDSealer: Sendable {
    static let version: UInt8 = 1
    static let keyInfo = "mcp-broker session v1"
    /// The length of every id.
    public static let idLength = Base64URL.encode([UInt8](repeating: 0, count: 1 + 12 + SessionClaims.byteCount + 16)).utf8.count

    private let keys: SealingKeys
    private let now: @Sendable () -> Date

    /// A sealer keyed from `material`.
    public init(material: KeyMaterial, now: @escaping @Sendable () -> Date = { Date() }) {
        keys = SealingKeys(material, info: Self.keyInfo)
        self.now = now
    }

    /// A new session id for `owner` (a ``Principal/bindingKey``) with what `initialize` negotiated; `nil` only if
    /// the crypto library failed (the caller refuses the request).
    public func issue(owner: String, protocolVersion: String, clientName: String?, supportsElicitation: Bool) -> (id: String, claims: SessionClaims)? {
        let claims = SessionClaims(
            owner: owner, issuedAtMilliseconds: RequestStateSealer.milliseconds(now()), protocolVersion: protocolVersion,
            supportsElicitation: supportsElicitation, clientName: clientName)
        guard let sealed = keys.seal(claims.bytes, authenticating: [Self.version]) else { return nil }
        return (Base64URL.encode([Self.version] + sealed), claims)
    }

    /// The claims of an id this deployment issued; `nil` for anything else (wrong length, altered, another key's).
    public func open(_ id: String) -> SessionClaims? {
        guard id.utf8.count == Self.idLength, let bytes = Base64URL.decodeCanonical(id), bytes.first == Self.version else { return nil }
        guard let plain = keys.open(bytes.dropFirst(), authenticating: [Self.version]) else { return nil }
        return SessionClaims(bytes: plain)
    }
}
