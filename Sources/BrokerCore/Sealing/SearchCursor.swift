// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// The paging cursor of a search over a simulated system: the next offset and a fingerprint of the search, sealed
/// through ``CallContext/tokens`` so any replica with the deployment's key continues it.
///
/// A cursor opens only for the tenant and principal that searched, for its purpose (which backend, which kind of
/// search), until it expires, and for the same search: another caller's, another search's, an expired, an altered
/// or a made-up cursor are all simply not valid.
public struct SearchCursor: Sendable {
    /// Names the backend and the token format (part of what the token is bound to).
    public let purpose: String
    /// How long a cursor stays valid.
    public let lifetime: Duration
    /// Longer input is not a cursor we issued (refused before any decoding).
    public let maxLength: Int

    /// Cursors for `purpose`.
    public init(purpose: String, lifetime: Duration = .seconds(3600), maxLength: Int) {
        self.purpose = purpose
        self.lifetime = lifetime
        self.maxLength = maxLength
    }

    /// A cursor for the page at `offset` of the search `fingerprint`; `nil` only if sealing failed (the page then
    /// ends the search).
    public func encode(offset: Int, search fingerprint: String, context: CallContext) -> String? {
        context.tokens.seal(["offset": .int(Int64(offset)), "search": .string(fingerprint)], purpose: purpose, for: context.principal, ttl: lifetime)
    }

    /// The offset `cursor` points at, when it opens for this caller and the search `fingerprint`.
    public func offset(_ cursor: String, search fingerprint: String, context: CallContext) -> Int? {
        guard let v = context.tokens.open(cursor, purpose: purpose, for: context.principal, maxLength: maxLength),
            v["search"]?.stringValue == fingerprint, let raw = v["offset"]?.intValue, raw >= 0
        else { return nil }
        return Int(exactly: raw)
    }

    /// FNV-1a of `text` in hex: a short, stable fingerprint of a search (its tool and canonical filter JSON).
    public static func fingerprint(_ text: String) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in text.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return String(h, radix: 16)
    }
}
