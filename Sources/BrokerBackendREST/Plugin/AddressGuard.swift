// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Resolves a backend's host and decides which address may be connected to (the SSRF guard).
///
/// Requests only ever go to the declared base URL's host; its resolved address must be public unless the
/// backend is declared internal, and the address checked is the address connected to (it is pinned into the
/// transfer), so a DNS answer cannot change between the check and the connect. `getaddrinfo` blocks, so it runs
/// on a private queue, never on Swift's cooperative pool.
///
/// An IP literal needs no lookup, and a name's answer is reused for ``answerLifetime``: every call used to pay
/// two thread hops to the resolver queue, which profiles showed on the per-call path.
struct AddressGuard: Sendable {
    let allowPrivate: Bool
    private static let queue = DispatchQueue(label: "mcp-broker.rest.resolver", attributes: .concurrent)
    /// How long a resolved name's addresses are reused (each use is still checked, and pinned into the transfer).
    static let answerLifetime = Duration.seconds(10)
    private let answers = Answers()

    init(allowPrivate: Bool) { self.allowPrivate = allowPrivate }

    /// Resolved names and when each answer expires.
    private final class Answers: Sendable {
        let table = Mutex<[String: (expires: ContinuousClock.Instant, addresses: [String])]>([:])
    }

    /// The address to connect to for `host`, or a `forbidden` error naming why.
    func resolve(host: String, backend: String) async throws(BrokerError) -> String {
        let addresses: [String]
        let now = ContinuousClock.now
        if let literal = Self.canonicalLiteral(host) {
            addresses = [literal]
        } else if let cached = answers.table.withLock({ $0[host] }), cached.expires > now {
            addresses = cached.addresses
        } else {
            addresses = await withCheckedContinuation { (c: CheckedContinuation<[String], Never>) in
                Self.queue.async { c.resume(returning: Self.lookup(host)) }
            }
            // Failures are not remembered, so a name that starts resolving is used at once.
            if !addresses.isEmpty { answers.table.withLock { $0[host] = (now + Self.answerLifetime, addresses) } }
        }
        guard let first = addresses.first else {
            throw BrokerError.unavailable("The \(backend) service's host name could not be resolved.", backend: backend)
        }
        if !allowPrivate, let bad = addresses.first(where: Self.isPrivate) {
            throw BrokerError(
                .forbidden, "The \(backend) service resolves to a private address; declare the backend internal: true if that is intended.",
                backend: backend, detail: "\(host) -> \(bad)")
        }
        return first
    }

    /// The canonical text of an IPv4 or IPv6 literal in standard notation, or nil (names, and the odd IPv4
    /// spellings such as `127.1` that only the full lookup interprets).
    static func canonicalLiteral(_ host: String) -> String? {
        var v4 = in_addr()
        var v6 = in6_addr()
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if inet_pton(AF_INET, host, &v4) == 1, inet_ntop(AF_INET, &v4, &buffer, socklen_t(buffer.count)) != nil {
            return text(buffer)
        }
        if inet_pton(AF_INET6, host, &v6) == 1, inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil {
            return text(buffer)
        }
        return nil
    }

    /// The text of a NUL-terminated C buffer filled by `inet_ntop` or `getnameinfo`.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func lookup(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let list = result else { return [] }
        defer { freeaddrinfo(list) }
        var out: [String] = []
        var node: UnsafeMutablePointer<addrinfo>? = list
        while let n = node {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(n.pointee.ai_addr, n.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let address = text(buffer)
                if !out.contains(address) { out.append(address) }
            }
            node = n.pointee.ai_next
        }
        return out
    }
}
