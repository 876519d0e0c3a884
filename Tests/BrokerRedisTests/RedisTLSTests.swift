// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import XCTest

@testable import BrokerRedis

/// `tls: true` against redis-server's TLS port, with a CA and server certificate made by `openssl` for the test.
final class RedisTLSTests: XCTestCase {
    private var certificates: String!
    private var server: RedisTestServer!

    override func setUp() async throws {
        certificates = try TestCertificates.make()
        server = try RedisTestServer(password: "tls-pw", tlsDirectory: certificates)
        setenv("REDIS_TEST_TLS_PW", "tls-pw", 1)
    }

    override func tearDown() async throws {
        server.kill()
        try? FileManager.default.removeItem(atPath: certificates)
    }

    private func settings(serverName: String?, caFile: Bool = true) -> SharedStateSettings {
        var s = RedisTestSupport.settings(port: server.port, passwordVariable: "REDIS_TEST_TLS_PW")
        s.redis.tls = true
        s.redis.tlsCAFile = caFile ? "\(certificates!)/ca.crt" : nil
        s.redis.tlsServerName = serverName
        return s
    }

    func testTLSWithTheServiceCAAndNameWorks() async throws {
        let byName = await RedisTestSupport.connectedStore(settings(serverName: "localhost"))
        defer { byName.shutdown() }
        try await byName.set("tls", value: String(repeating: "v", count: 100_000), ttl: .seconds(10))
        let value = try await byName.get("tls")
        XCTAssertEqual(value?.count, 100_000)
        let decision = try await byName.acquire("rl:tls", limit: RateLimit(ratePerSecond: 1, burst: 1))
        XCTAssertEqual(decision, .allowed)
        // Without tls_server_name the certificate must carry the address's IP (it does: IP:127.0.0.1).
        let byIP = await RedisTestSupport.connectedStore(settings(serverName: nil))
        defer { byIP.shutdown() }
        let seen = try await byIP.get("tls")
        XCTAssertEqual(seen?.count, 100_000)
        // Pub/sub runs over TLS too.
        let received = ReceivedMessages()
        byIP.subscribe("c") { received.append($0) }
        let delivered = await RedisTestSupport.eventually {
            try? await byName.publish("c", "over tls")
            return received.all.contains("over tls")
        }
        XCTAssertTrue(delivered)
    }

    func testAWrongNameOrAnUntrustedCAIsRefused() async throws {
        let wrongName = RedisStore(settings: settings(serverName: "redis.other.example"), logger: RedisTestSupport.logger)
        defer { wrongName.shutdown() }
        let refused = await RedisTestSupport.eventually {
            let e = await RedisTestSupport.unavailable { try await wrongName.get("k") }
            return e?.reason.contains("certificate verification failed") == true
        }
        XCTAssertTrue(refused)
        XCTAssertFalse(wrongName.isAvailable)
        let systemStore = RedisStore(settings: settings(serverName: "localhost", caFile: false), logger: RedisTestSupport.logger)
        defer { systemStore.shutdown() }
        let untrusted = await RedisTestSupport.eventually {
            let e = await RedisTestSupport.unavailable { try await systemStore.get("k") }
            return e?.reason.contains("certificate verification failed") == true
        }
        XCTAssertTrue(untrusted, "a self-made CA is not in the system store")
    }

    func testPlainClientOnATLSPortFails() async throws {
        let plain = RedisStore(settings: RedisTestSupport.settings(port: server.port, passwordVariable: "REDIS_TEST_TLS_PW", timeoutMs: 500), logger: RedisTestSupport.logger)
        defer { plain.shutdown() }
        let error = await RedisTestSupport.unavailable { try await plain.get("k") }
        XCTAssertNotNil(error)
        XCTAssertFalse(plain.isAvailable)
    }
}

/// A throwaway CA and a server certificate for localhost / 127.0.0.1, made with the `openssl` command.
enum TestCertificates {
    static func make() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("redis-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: "\(dir)/ext", atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=redis-test-ca"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
            [
                "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "1",
                "-extfile", "ext",
            ],
        ]
        for arguments in steps {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["openssl"] + arguments
            p.currentDirectoryURL = URL(fileURLWithPath: dir)
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw RedisTestError("openssl \(arguments[0]) failed") }
        }
        return dir
    }
}
