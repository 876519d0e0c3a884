// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import BrokerCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `mcp-broker health`: a container HEALTHCHECK without curl in the image.
///
/// Sends one `GET` for `/livez` (or `/readyz`) to the broker on the loopback interface and exits 0 on a 2xx status,
/// 1 otherwise (refused, timed out, or any other status). Plain HTTP/1.0 over a socket: the image needs no client tool,
/// and the whole check is bounded by `--timeout-ms`. The port is `--port`, else `server.http.port` of the
/// configuration (`--config` / `MCP_BROKER_CONFIG`, as for `serve`), else 8080.
struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Probe a running broker on 127.0.0.1 (for a container HEALTHCHECK): exit 0 when it answers 2xx.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "The broker's HTTP port (default: server.http.port of the configuration, else 8080).")
    var port: Int?

    @Option(help: "The path to probe: /livez (process alive) or /readyz (backends and audit ready; can take up to 3 s).")
    var path: String = "/livez"

    @Option(name: .customLong("timeout-ms"), help: "Give up after this many milliseconds.")
    var timeoutMs: Int = 2000

    func validate() throws {
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be 1...65535") }
        guard path.hasPrefix("/"), !path.contains(where: { $0 == "\r" || $0 == "\n" || $0 == " " }) else {
            throw ValidationError("--path must be an absolute path without spaces")
        }
        guard (1...600_000).contains(timeoutMs) else { throw ValidationError("--timeout-ms must be between 1 and 600000") }
    }

    func run() async throws {
        let configured = (try? BrokerConfiguration.load(path: options.config))?.server.http.port
        let target = port ?? configured ?? 8080
        guard let port16 = UInt16(exactly: target), port16 > 0 else {
            FileHandle.standardError.write(Data("no usable port (\(target))\n".utf8))
            throw ExitCode(1)
        }
        switch HealthProbe(port: port16, path: path, timeoutMs: timeoutMs).run() {
        case .success(let status):
            print("\(path): HTTP \(status)")
            if !(200..<300).contains(status) { throw ExitCode(1) }
        case .failure(let reason):
            FileHandle.standardError.write(Data("\(path): \(reason.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// Why a health probe got no HTTP status.
struct HealthProbeFailure: Error {
    /// Human-readable reason, for the HEALTHCHECK log.
    let message: String
}

/// One bounded `GET http://127.0.0.1:<port><path>` over a blocking socket with a deadline.
struct HealthProbe {
    /// Port on 127.0.0.1.
    let port: UInt16
    /// Request path.
    let path: String
    /// Overall budget for connect, send and receive.
    let timeoutMs: Int

    /// Returns the HTTP status code of the response, or why there is none.
    func run() -> Result<Int, HealthProbeFailure> {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return .failure(HealthProbeFailure(message: "socket: errno \(errno)")) }
        defer { close(fd) }

        // Non-blocking connect, bounded by poll().
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if connected != 0 {
            guard errno == EINPROGRESS else { return .failure(HealthProbeFailure(message: "connect: errno \(errno)")) }
            guard wait(fd, events: Int16(POLLOUT), until: deadline) else {
                return .failure(HealthProbeFailure(message: "connect timed out"))
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            guard soError == 0 else { return .failure(HealthProbeFailure(message: "connect: errno \(soError)")) }
        }

        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            guard wait(fd, events: Int16(POLLOUT), until: deadline) else {
                return .failure(HealthProbeFailure(message: "send timed out"))
            }
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Self.sendFlags) }
            guard n > 0 else { return .failure(HealthProbeFailure(message: "send: errno \(errno)")) }
            sent += n
        }

        // Only the status line matters: read until the first line is complete.
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while !response.contains(UInt8(ascii: "\n")) && response.count < 4096 {
            guard wait(fd, events: Int16(POLLIN), until: deadline) else {
                return .failure(HealthProbeFailure(message: "timed out after \(timeoutMs) ms"))
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { return .failure(HealthProbeFailure(message: "recv: errno \(errno)")) }
            response.append(contentsOf: buffer[0..<n])
        }
        let statusLine = String(decoding: response.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            return .failure(HealthProbeFailure(message: "not an HTTP response: \(statusLine.prefix(80))"))
        }
        return .success(status)
    }

    /// No SIGPIPE when the broker closes the connection first (the send then fails with EPIPE instead).
    #if canImport(Glibc)
    private static let sendFlags = Int32(MSG_NOSIGNAL)
    #else
    private static let sendFlags: Int32 = 0
    #endif

    /// Waits until `fd` is ready for `events` or the deadline passes; false on timeout or error.
    private func wait(_ fd: Int32, events: Int16, until deadline: Date) -> Bool {
        while true {
            let remaining = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            if remaining <= 0 { return false }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, remaining)
            if ready > 0 { return true }
            if ready < 0 && errno == EINTR { continue }
            return false
        }
    }
}
