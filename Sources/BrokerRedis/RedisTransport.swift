// SPDX-License-Identifier: Apache-2.0

/// What sits between the socket and RESP: nothing for plain TCP, a TLS session for `tls: true`.
///
/// The socket I/O stays in the connection loop; a transport only turns received bytes into application bytes
/// and application bytes into bytes to send, so TLS needs no socket of its own (and no SIGPIPE-prone writes).
/// Used by one connection thread only.
protocol RedisTransport: AnyObject {
    /// Advances the handshake; `true` once application data can flow. Bytes to send go to `outbound`.
    func handshake(outbound: inout [UInt8]) throws(RedisTransportError) -> Bool
    /// Takes bytes read from the socket and appends the application bytes they carry to `plain`; protocol bytes
    /// the peer is owed (TLS records) go to `outbound`.
    func received(_ bytes: UnsafeRawBufferPointer, plain: inout [UInt8], outbound: inout [UInt8]) throws(RedisTransportError)
    /// Appends the wire form of application `bytes` to `outbound`.
    func send(_ bytes: [UInt8], outbound: inout [UInt8]) throws(RedisTransportError)
}

/// A transport failure (a TLS alert, a certificate that does not verify).
struct RedisTransportError: Error, CustomStringConvertible {
    let description: String
}

/// Plain TCP: bytes pass through.
final class PlainTransport: RedisTransport {
    func handshake(outbound: inout [UInt8]) throws(RedisTransportError) -> Bool { true }

    func received(_ bytes: UnsafeRawBufferPointer, plain: inout [UInt8], outbound: inout [UInt8]) throws(RedisTransportError) {
        plain.append(contentsOf: bytes)
    }

    func send(_ bytes: [UInt8], outbound: inout [UInt8]) throws(RedisTransportError) {
        outbound.append(contentsOf: bytes)
    }
}
