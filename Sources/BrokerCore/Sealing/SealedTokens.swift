// SPDX-License-Identifier: Apache-2.0

import Crypto
import Foundation
import MCPCore

/// Self-describing, expiring tokens a backend hands to a client and gets back later: paging cursors that any
/// replica can continue without shared memory.
///
/// A token is base64url (no padding) of `version (1) | nonce (12) | AES-256-GCM(expires-at ms (8) | JSON payload) |
/// tag (16)`. The associated data is the version, the SHA-256 of the *purpose* (which backend and what kind of
/// token) and the SHA-256 of the principal's binding key (tenant and id): a token opens only for the purpose and
/// the principal it was sealed for, so another tenant's, another principal's, another backend's, an altered, an
/// expired and a made-up token all look the same to the caller: unknown. The key comes from
/// `server.request_state.key` (HKDF info `mcp-broker cursor v1`), so every replica with that key opens the others'
/// tokens; without a key it is this process's own. Built per configuration generation, so a rotated key applies
/// at the next reload (with `previous_key`, tokens issued before the rotation still open).
public final class SealedTokens: Sendable {
    /// Tokens sealed with this process's own key: what a ``CallContext`` carries unless the server gives it the
    /// generation's (tests, tools, health checks).
    public static let process = SealedTokens(material: .process)

    static let version: UInt8 = 1
    static let keyInfo = "mcp-broker cursor v1"
    /// Bytes a token adds to its payload before base64: version, nonce, expiry and tag.
    static let overhead = 1 + 12 + 8 + 16

    private let keys: SealingKeys
    private let now: @Sendable () -> Date

    /// Tokens keyed from `material`; `now` is the clock (tests inject one).
    public init(material: KeyMaterial, now: @escaping @Sendable () -> Date = { Date() }) {
        keys = SealingKeys(material, info: Self.keyInfo)
        self.now = now
    }

    /// The length of a token whose payload encodes to `payloadBytes` bytes of JSON: what a tool's input schema may
    /// allow for a cursor argument.
    public static func tokenLength(payloadBytes: Int) -> Int {
        let (raw, overflow) = max(0, payloadBytes).addingReportingOverflow(overhead)
        guard !overflow else { return Int.max }
        return (raw / 3) * 4 + [0, 2, 3][raw % 3]
    }

    /// A token carrying `payload`, opening only for `purpose` and `principal` until `ttl` has passed; `nil` when
    /// the payload encodes to more than `maxPayloadBytes` (the caller tells the client to narrow the request).
    public func seal(_ payload: JSONValue, purpose: String, for principal: Principal, ttl: Duration, maxPayloadBytes: Int = 16 * 1024) -> String? {
        let json = JSONWriter.encode(payload)
        guard json.count <= maxPayloadBytes else { return nil }
        let expires = RequestStateSealer.plus(RequestStateSealer.milliseconds(now()), RequestStateSealer.milliseconds(ttl))
        var plain: [UInt8] = []
        plain.reserveCapacity(8 + json.count)
        SealedBytes.append(UInt64(bitPattern: expires), to: &plain)
        plain.append(contentsOf: json)
        guard let sealed = keys.seal(plain, authenticating: Self.associatedData(purpose: purpose, principal: principal)) else { return nil }
        return Base64URL.encode([Self.version] + sealed)
    }

    /// The payload of `token` when it was sealed by a holder of this key for `purpose` and `principal` and has not
    /// expired; `nil` otherwise (one answer for every kind of refusal). Tokens longer than `maxLength` are refused
    /// before any decoding.
    public func open(_ token: String, purpose: String, for principal: Principal, maxLength: Int = 64 * 1024) -> JSONValue? {
        guard token.utf8.count <= maxLength, let bytes = Base64URL.decodeCanonical(token), bytes.first == Self.version,
            bytes.count >= Self.overhead
        else { return nil }
        guard let plain = keys.open(bytes.dropFirst(), authenticating: Self.associatedData(purpose: purpose, principal: principal)),
            plain.count >= 8
        else { return nil }
        let expires = Int64(bitPattern: SealedBytes.read(plain[...], at: 0))
        guard RequestStateSealer.milliseconds(now()) < expires else { return nil }
        return try? JSONParser.parse(plain.dropFirst(8))
    }

    static func associatedData(purpose: String, principal: Principal) -> [UInt8] {
        [version] + Array(SHA256.hash(data: Array(purpose.utf8))) + Array(SHA256.hash(data: Array(principal.bindingKey.utf8)))
    }
}
