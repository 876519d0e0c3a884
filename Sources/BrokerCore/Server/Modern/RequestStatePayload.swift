// SPDX-License-Identifier: Apache-2.0

import Crypto

/// The random identity of one sealed requestState (128 bits), the key of the replay set.
struct RequestStateID: Hashable, Sendable {
    var high: UInt64
    var low: UInt64

    /// A fresh identity from the system's cryptographically secure generator.
    static func random() -> RequestStateID {
        var generator = SystemRandomNumberGenerator()
        return RequestStateID(high: generator.next(), low: generator.next())
    }
}

/// The plaintext inside a sealed requestState (format version 1), a fixed 160-byte layout:
///
///     issued-at ms (Int64 BE) | expires-at ms (Int64 BE) | id (16) | SHA-256 of tenant, principal, tool, digest (4 × 32)
///
/// The binding fields are carried as their SHA-256 (each at a fixed place, so no field can run into the next):
/// the token keeps one size whatever the principal id or tool name, so a long binding can never push it past
/// the length cap `open` enforces, and comparing the hashes tells a foreign binding as surely as the fields would.
struct RequestStatePayload: Equatable {
    static let byteCount = 8 + 8 + 16 + 4 * SHA256.byteCount

    var issuedAtMilliseconds: Int64
    var expiresAtMilliseconds: Int64
    var id: RequestStateID
    /// ``bindingHashes(_:)`` of the binding it was issued for.
    var binding: [UInt8]

    /// The per-field hashes of `binding`, in layout order.
    static func bindingHashes(_ binding: RequestStateBinding) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4 * SHA256.byteCount)
        for field in [binding.tenant, binding.principal, binding.tool, binding.argumentsDigest] {
            out.append(contentsOf: SHA256.hash(data: Array(field.utf8)))
        }
        return out
    }

    /// The layout above.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.byteCount)
        SealedBytes.append(UInt64(bitPattern: issuedAtMilliseconds), to: &out)
        SealedBytes.append(UInt64(bitPattern: expiresAtMilliseconds), to: &out)
        SealedBytes.append(id.high, to: &out)
        SealedBytes.append(id.low, to: &out)
        out.append(contentsOf: binding)
        return out
    }

    init(issuedAtMilliseconds: Int64, expiresAtMilliseconds: Int64, id: RequestStateID, binding: [UInt8]) {
        self.issuedAtMilliseconds = issuedAtMilliseconds
        self.expiresAtMilliseconds = expiresAtMilliseconds
        self.id = id
        self.binding = binding
    }

    /// Parses the layout; `nil` unless `bytes` has exactly its size.
    init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        issuedAtMilliseconds = Int64(bitPattern: SealedBytes.read(bytes[...], at: 0))
        expiresAtMilliseconds = Int64(bitPattern: SealedBytes.read(bytes[...], at: 8))
        id = RequestStateID(high: SealedBytes.read(bytes[...], at: 16), low: SealedBytes.read(bytes[...], at: 24))
        binding = Array(bytes[32...])
    }
}
