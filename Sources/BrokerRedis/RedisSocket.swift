// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One resolved address of the service, copied out of `getaddrinfo`'s list.
struct RedisAddress {
    let family: Int32
    let socketType: Int32
    let proto: Int32
    let sockaddr: [UInt8]

    /// Resolves `host:port` (blocking: call it on the connection thread only).
    static func resolve(host: String, port: Int) throws(RedisSocketError) -> [RedisAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, String(port), &hints, &list)
        guard code == 0, let list else {
            throw RedisSocketError("cannot resolve \(host): \(String(cString: gai_strerror(code)))")
        }
        defer { freeaddrinfo(list) }
        var out: [RedisAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let entry = cursor?.pointee {
            if let addr = entry.ai_addr, entry.ai_addrlen > 0 {
                let bytes = Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(addr), count: Int(entry.ai_addrlen)))
                out.append(RedisAddress(family: entry.ai_family, socketType: entry.ai_socktype, proto: entry.ai_protocol, sockaddr: bytes))
            }
            cursor = entry.ai_next
        }
        guard !out.isEmpty else { throw RedisSocketError("cannot resolve \(host): no address") }
        return out
    }
}

/// A socket error; the text names the operation and errno's meaning.
struct RedisSocketError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
    static func system(_ operation: String, _ code: Int32 = errno) -> RedisSocketError {
        RedisSocketError("\(operation): \(String(cString: strerror(code)))")
    }
}

/// A non-blocking TCP socket, owned by one connection thread (closed in `deinit`).
///
/// Writes use `MSG_NOSIGNAL`: a service that went away must produce an error, not a SIGPIPE that ends the process.
final class RedisSocket {
    let fd: Int32

    /// What a non-blocking read or write did.
    enum IOResult {
        case done(Int)
        case wouldBlock
        case closed
        case failed(RedisSocketError)
    }

    /// Opens a socket and starts connecting to `address`; completion is signalled by writability (``finishConnect()``).
    init(connectingTo address: RedisAddress) throws(RedisSocketError) {
        let fd = socket(address.family, address.socketType, address.proto)
        guard fd >= 0 else { throw .system("socket") }
        self.fd = fd
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else { throw .system("fcntl") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var on: Int32 = 1
        // Small pipelined commands must not wait for Nagle; keepalive finds a dead peer on an idle subscriber.
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, socklen_t(MemoryLayout<Int32>.size))
        let result = address.sockaddr.withUnsafeBytes { raw -> Int32 in
            guard let base = raw.baseAddress else { return -1 }
            return connect(fd, base.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
        }
        if result != 0, errno != EINPROGRESS { throw .system("connect") }
    }

    deinit { close(fd) }

    /// After writability: whether the connection was established.
    func finishConnect() throws(RedisSocketError) {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) == 0 else { throw .system("getsockopt") }
        if code != 0 { throw .system("connect", code) }
    }

    /// Sends what the kernel takes now.
    func send(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return .done(0) }
        let n = systemSend(fd, base, bytes.count)
        if n >= 0 { return .done(n) }
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return .wouldBlock }
        return .failed(.system("send", code))
    }

    /// Receives what is available into `buffer`.
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return .done(0) }
        let n = recv(fd, base, buffer.count, 0)
        if n > 0 { return .done(n) }
        if n == 0 { return .closed }
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return .wouldBlock }
        return .failed(.system("recv", code))
    }
}

/// `send(2)` without SIGPIPE (the method of the same name hides the C function inside the class).
private func systemSend(_ fd: Int32, _ base: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return send(fd, base, count, Int32(MSG_NOSIGNAL))
    #else
    return send(fd, base, count, 0)
    #endif
}
