// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import XCTest

@testable import BrokerBackendPostgres

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Connection settings and helpers shared by the driver and pool tests (real PostgreSQL from scripts/pg.sh).
enum PGTestSupport {
    /// The warehouse port (WH_PORT, default 55432).
    static var port: Int { Int(ProcessInfo.processInfo.environment["WH_PORT"] ?? "") ?? 55432 }

    /// wh_acme on the demo warehouse; the password comes from WH_ACME_PASSWORD (exported by the test script).
    static func acme(port: Int? = nil, connectTimeout: Duration = .seconds(3), applicationName: String = "mcp-broker-test")
        -> PGConnectionSettings
    {
        PGConnectionSettings(
            host: "127.0.0.1", port: port ?? self.port, database: "warehouse", user: "wh_acme",
            password: SecretReference(source: .environment("WH_ACME_PASSWORD")), sslMode: "prefer",
            connectTimeout: connectTimeout, applicationName: applicationName)
    }

    /// A deadline `seconds` from now.
    static func deadline(_ seconds: Double = 5) -> ContinuousClock.Instant {
        .now + .milliseconds(Int(seconds * 1000))
    }

    /// Connects as wh_acme or fails the test.
    static func connectAcme() async throws -> PGConnection {
        try await PGConnection.connect(acme(), deadline: deadline())
    }

    /// Runs `operation`, failing with a timeout error (and cancelling it) if it takes longer than `seconds`.
    static func bounded<T: Sendable>(
        _ seconds: Double, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw BoundExceeded(seconds: seconds)
            }
            return value
        }
    }

    /// Thrown by ``bounded(_:_:)`` when the operation overran.
    struct BoundExceeded: Error { let seconds: Double }

    /// Lets `task` start its slow statement, cancels it, and checks that it fails `.cancelled` within 2 s (the
    /// PQcancel path, not the statement's own end).
    static func assertCancelledPromptly<T: Sendable>(_ task: Task<T, any Error>, file: StaticString = #filePath, line: UInt = #line) async throws {
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        task.cancel()
        let error = await errorKind({ try await bounded(5) { try await task.value } }, file: file, line: line)
        XCTAssertEqual(error?.kind, .cancelled, file: file, line: line)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2), file: file, line: line)
    }

    /// The PGError kind thrown by `operation`, or nil if it succeeded (any other error fails the test).
    static func errorKind<T>(
        _ operation: () async throws -> T, file: StaticString = #filePath, line: UInt = #line
    ) async -> PGError? {
        do {
            _ = try await operation()
            return nil
        } catch let error as PGError {
            return error
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return nil
        }
    }
}

/// A TCP listener on 127.0.0.1 that the kernel completes handshakes for but nobody ever accepts or answers.
final class SilentListener {
    /// The bound port.
    let port: Int
    private let descriptor: Int32

    /// Opens the listener, or nil if the socket calls fail.
    init?() {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            return nil
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            close(fd)
            return nil
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// A port that was just bound and released, so nothing listens on it (connect is refused).
    static func closedPort() -> Int? {
        guard let listener = SilentListener() else { return nil }
        let port = listener.port
        listener.stop()
        return port
    }

    /// Closes the socket.
    func stop() { close(descriptor) }
}
