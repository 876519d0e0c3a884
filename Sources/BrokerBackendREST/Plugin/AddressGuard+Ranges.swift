// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif

extension AddressGuard {
    /// Whether a numeric address must not be reached by a backend that is not `internal: true`.
    ///
    /// Parsed into bytes, not matched as text: textual prefixes missed whole ranges (`fec0::/10`) and every form of
    /// IPv6 that carries an IPv4 address inside it. Those forms (IPv4-mapped, IPv4-compatible, NAT64, 6to4,
    /// Teredo) are judged by the IPv4 address they reach. Anything that does not parse (a scoped `fe80::1%eth0`)
    /// counts as private: when in doubt, refuse.
    static func isPrivate(_ address: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { isPrivateV4(Array($0)) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { isPrivateV6(Array($0)) }
        }
        return true
    }

    /// Special-purpose IPv4 (RFC 6890 and successors): "this network", private, shared (CGNAT), loopback,
    /// link-local, IETF protocol assignments, documentation, 6to4 relay anycast, benchmarking, multicast,
    /// reserved and broadcast.
    static func isPrivateV4(_ b: [UInt8]) -> Bool {
        guard b.count == 4 else { return true }
        switch (b[0], b[1], b[2]) {
        case (0, _, _), (10, _, _), (127, _, _): return true
        case (100, 64...127, _): return true  // 100.64.0.0/10 shared address space (carrier-grade NAT)
        case (169, 254, _), (172, 16...31, _), (192, 168, _): return true
        case (192, 0, 0), (192, 0, 2), (192, 88, 99), (198, 51, 100), (203, 0, 113): return true
        case (198, 18...19, _): return true  // 198.18.0.0/15 benchmarking
        case (224...255, _, _): return true  // multicast, reserved, 255.255.255.255 broadcast
        default: return false
        }
    }

    /// Special-purpose IPv6, and IPv6 forms that embed an IPv4 address (judged by that address).
    static func isPrivateV6(_ b: [UInt8]) -> Bool {
        guard b.count == 16 else { return true }
        let embeddedTail = Array(b[12..<16])
        // ::/96 IPv4-compatible (also :: and ::1) and ::ffff:0:0/96 IPv4-mapped.
        if b[0..<10].allSatisfy({ $0 == 0 }) && ((b[10] == 0 && b[11] == 0) || (b[10] == 0xff && b[11] == 0xff)) {
            return isPrivateV4(embeddedTail)
        }
        // 64:ff9b::/96 well-known NAT64 prefix: the translator connects to the embedded IPv4 address.
        if b[0..<12].elementsEqual([0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]) { return isPrivateV4(embeddedTail) }
        // 64:ff9b:1::/48 local-use NAT64 (RFC 8215): translates into a private network by definition.
        if b[0..<6].elementsEqual([0x00, 0x64, 0xff, 0x9b, 0x00, 0x01]) { return true }
        // 100::/64 discard-only.
        if b[0] == 0x01 && b[1] == 0x00 && b[2..<8].allSatisfy({ $0 == 0 }) { return true }
        // 2001::/32 Teredo: the server's IPv4 in bytes 4-7, the client's in bytes 12-15, inverted.
        if b[0..<4].elementsEqual([0x20, 0x01, 0x00, 0x00]) {
            return isPrivateV4(Array(b[4..<8])) || isPrivateV4(embeddedTail.map { ~$0 })
        }
        // 2001:db8::/32 documentation.
        if b[0..<4].elementsEqual([0x20, 0x01, 0x0d, 0xb8]) { return true }
        // 2002::/16 6to4: the relay delivers to the IPv4 address in bytes 2-5.
        if b[0] == 0x20 && b[1] == 0x02 { return isPrivateV4(Array(b[2..<6])) }
        // fc00::/7 unique local, fe80::/10 link-local, fec0::/10 site-local (deprecated, still routed on some
        // networks), ff00::/8 multicast.
        return (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && b[1] >= 0x80) || b[0] == 0xff
    }
}
