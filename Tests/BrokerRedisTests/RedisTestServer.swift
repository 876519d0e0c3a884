// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import Synchronization
import XCTest

@testable import BrokerRedis

#if canImport(Glibc)
import Glibc
#endif

/// A real `redis-server` on a free loopback port, started by a test and killed at its end.
///
/// Debian's `redis-server` package (scripts/common.sh `ensure_redis` installs it for CI); a missing binary fails the test
/// with the install hint rather than skipping it.
final class RedisTestServer: @unchecked Sendable {
    let port: Int
    let password: String?
    /// With TLS: the directory holding ca.crt, server.crt and server.key (see ``TestCertificates``).
    let tlsDirectory: String?
    private var process: Process?

    /// Starts a server; `port` reuses a port (a restart), `password` sets `requirepass`, `tlsDirectory` makes the
    /// port TLS-only.
    init(port: Int? = nil, password: String? = nil, tlsDirectory: String? = nil) throws {
        self.port = try port ?? Self.freePort()
        self.password = password
        self.tlsDirectory = tlsDirectory
        try start()
    }

    deinit { process.map { Self.signal($0, SIGKILL) } }

    static let binary = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let cliBinary = ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Launches the server and waits until it answers PING.
    func start() throws {
        guard let binary = Self.binary else { throw RedisTestError("redis-server is not installed (apt-get install -y redis-server)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        var arguments = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"]
        if let password { arguments += ["--requirepass", password] }
        if let dir = tlsDirectory {
            arguments += [
                "--port", "0", "--tls-port", "\(port)", "--tls-cert-file", "\(dir)/server.crt", "--tls-key-file", "\(dir)/server.key",
                "--tls-ca-cert-file", "\(dir)/ca.crt", "--tls-auth-clients", "no",
            ]
        } else {
            arguments += ["--port", "\(port)"]
        }
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if (try? cli(["PING"]))?.contains("PONG") == true { return }
            usleep(50_000)
        }
        throw RedisTestError("redis-server on port \(port) did not answer PING within 15 s")
    }

    /// SIGKILL: the service vanishes the way a crashed or evicted pod does.
    func kill() {
        guard let p = process else { return }
        Self.signal(p, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    /// SIGSTOP / SIGCONT: the service stops answering while its connections stay open.
    func pause() { process.map { Self.signal($0, SIGSTOP) } }
    func resume() { process.map { Self.signal($0, SIGCONT) } }

    /// Runs `redis-cli` against the server and returns its output.
    @discardableResult
    func cli(_ arguments: [String]) throws -> String {
        guard let cliBinary = Self.cliBinary else { throw RedisTestError("redis-cli is not installed") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: cliBinary)
        var env = ProcessInfo.processInfo.environment
        if let password { env["REDISCLI_AUTH"] = password }
        p.environment = env
        let tls = tlsDirectory.map { ["--tls", "--cacert", "\($0)/ca.crt"] } ?? []
        p.arguments = ["-h", "127.0.0.1", "-p", "\(port)"] + tls + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func signal(_ p: Process, _ sig: Int32) {
        if p.isRunning { Glibc.kill(p.processIdentifier, sig) }
    }

    /// A port nothing listens on now (bound to 0 and released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RedisTestError("socket failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw RedisTestError("bind failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

struct RedisTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Store construction and polling shared by the Redis test classes.
enum RedisTestSupport {
    /// Settings for a store on `port`; `passwordVariable` names an environment variable holding the password.
    static func settings(
        port: Int, passwordVariable: String? = nil, username: String? = nil, timeoutMs: Int = 2000, prefix: String = "test:"
    ) -> SharedStateSettings {
        var s = SharedStateSettings()
        s.redis.host = "127.0.0.1"
        s.redis.port = port
        s.redis.username = username
        s.redis.password = passwordVariable.map { SecretReference(source: .environment($0)) }
        s.timeoutMilliseconds = timeoutMs
        s.keyPrefix = prefix
        return s
    }

    static let logger = Logger(label: "redis-test")

    /// Polls `condition` every 50 ms for up to `seconds`; whether it became true.
    static func eventually(_ seconds: Double = 15, _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return await condition()
    }

    /// A store that has logged in (fails the test if it does not within 15 s).
    static func connectedStore(_ settings: SharedStateSettings, file: StaticString = #filePath, line: UInt = #line) async -> RedisStore {
        let store = RedisStore(settings: settings, logger: logger, label: "test")
        let up = await eventually { store.isAvailable }
        XCTAssertTrue(up, "store did not connect to \(settings.redis.port)", file: file, line: line)
        return store
    }

    /// The ``SharedStateUnavailable`` `operation` throws (fails the test when it succeeds or throws something else).
    static func unavailable<T>(
        _ operation: () async throws -> T, file: StaticString = #filePath, line: UInt = #line
    ) async -> SharedStateUnavailable? {
        do {
            _ = try await operation()
            XCTFail("expected SharedStateUnavailable", file: file, line: line)
        } catch let error as SharedStateUnavailable {
            return error
        } catch {
            XCTFail("expected SharedStateUnavailable, got \(error)", file: file, line: line)
        }
        return nil
    }
}

/// Messages a subscription handler received, in order.
final class ReceivedMessages: Sendable {
    private let messages = Mutex<[String]>([])
    func append(_ m: String) { messages.withLock { $0.append(m) } }
    var all: [String] { messages.withLock { $0 } }
}
