// SPDX-License-Identifier: Apache-2.0

import Crypto

/// What a sealed HTTP session id carries: enough for any replica to serve the session without asking another.
///
/// Plaintext layout (format version 1), a fixed 138 bytes so every id has one length:
///
///     sid (16) | issued-at ms (Int64 BE) | SHA-256 of the owner's binding key (32) | protocol version (16, zero padded)
///     | flags (1: bit 0 = form elicitation) | client name length (1) | client name (64, zero padded)
public struct SessionClaims: Sendable, Equatable {
    static let byteCount = 16 + 8 + 32 + 16 + 1 + 1 + 64
    static let maxClientNameBytes = 64
    static let versionBytes = 16

    /// 128 random bits naming the session in the shared store and on the pub/sub channels.
    public var sid: [UInt8]
    /// When the session was opened (unix ms).
    public var issuedAtMilliseconds: Int64
    /// SHA-256 of the owner's ``Principal/bindingKey``.
    public var ownerHash: [UInt8]
    /// The revision `initialize` agreed.
    public var protocolVersion: String
    /// Whether the client declared form elicitation.
    public var supportsElicitation: Bool
    /// The client's name from `initialize`, cut to 64 bytes at a character boundary.
    public var clientName: String?

    /// `sid` in lowercase hex (32 characters): the session's name in store keys and messages.
    public var sidHex: String { Hex.lowercase(sid) }

    /// Whether `bindingKey` is the owner's.
    public func isOwned(by bindingKey: String) -> Bool { ownerHash == Array(SHA256.hash(data: Array(bindingKey.utf8))) }

    /// Claims for a new session of `owner` with a fresh sid.
    init(owner: String, issuedAtMilliseconds: Int64, protocolVersion: String, supportsElicitation: Bool, clientName: String?) {
        var g = SystemRandomNumberGenerator()
        var sid: [UInt8] = []
        SealedBytes.append(g.next(), to: &sid)
        SealedBytes.append(g.next(), to: &sid)
        self.sid = sid
        self.issuedAtMilliseconds = issuedAtMilliseconds
        self.ownerHash = Array(SHA256.hash(data: Array(owner.utf8)))
        self.protocolVersion = String(protocolVersion.utf8.prefix(Self.versionBytes)) ?? ""
        self.supportsElicitation = supportsElicitation
        self.clientName = clientName.map(Self.capped)
    }

    /// The longest prefix of `name` of at most 64 UTF-8 bytes that ends on a character boundary.
    static func capped(_ name: String) -> String {
        var out = "", used = 0
        for c in name {
            let n = c.utf8.count
            if used + n > maxClientNameBytes { break }
            out.append(c)
            used += n
        }
        return out
    }

    /// The layout above.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.byteCount)
        out += sid
        SealedBytes.append(UInt64(bitPattern: issuedAtMilliseconds), to: &out)
        out += ownerHash
        out += Self.padded(Array(protocolVersion.utf8), to: Self.versionBytes)
        out.append(supportsElicitation ? 1 : 0)
        let name = Array((clientName ?? "").utf8.prefix(Self.maxClientNameBytes))
        // 0xFF marks "no name", apart from an empty one.
        out.append(clientName == nil ? 0xFF : UInt8(truncatingIfNeeded: name.count))
        out += Self.padded(name, to: Self.maxClientNameBytes)
        return out
    }

    /// Parses the layout; `nil` unless it is exactly the layout's size with sane lengths.
    init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        let b = bytes[...]
        sid = Array(b[0..<16])
        issuedAtMilliseconds = Int64(bitPattern: SealedBytes.read(b, at: 16))
        ownerHash = Array(b[24..<56])
        let version = b[56..<72].prefix { $0 != 0 }
        guard let v = String(validating: version, as: UTF8.self) else { return nil }
        protocolVersion = v
        supportsElicitation = b[72] & 1 == 1
        let length = Int(b[73])
        if length == 0xFF {
            clientName = nil
        } else {
            guard length <= Self.maxClientNameBytes, let name = String(validating: b[74..<(74 + length)], as: UTF8.self) else { return nil }
            clientName = name
        }
    }

    private static func padded(_ bytes: [UInt8], to count: Int) -> [UInt8] {
        Array(bytes.prefix(count)) + [UInt8](repeating: 0, count: max(0, count - bytes.count))
    }
}
