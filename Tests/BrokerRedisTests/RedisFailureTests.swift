// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import XCTest

@testable import BrokerRedis

/// RedisStore when the service dies, stalls, comes back, refuses the password or misbehaves.
final class RedisFailureTests: XCTestCase {
    func testKilledServerFailsFastAndARestartOnTheSamePortRecovers() async throws {
        let server = try RedisTestServer()
        defer { server.kill() }
        let store = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port, timeoutMs: 3000))
        defer { store.shutdown() }
        try await store.set("survives", value: "no", ttl: .seconds(60))
        server.kill()

        let started = ContinuousClock.now
        let error = await RedisTestSupport.unavailable { try await store.get("survives") }
        XCTAssertNotNil(error)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(10), "throws within the timeout")
        let down = await RedisTestSupport.eventually { !store.isAvailable }
        XCTAssertTrue(down)
        // While down, commands fail at once instead of waiting out the 3 s timeout.
        let fastStart = ContinuousClock.now
        let fast = await RedisTestSupport.unavailable { try await store.set("x", value: "y", ttl: .seconds(1)) }
        XCTAssertNotNil(fast)
        XCTAssertLessThan(ContinuousClock.now - fastStart, .milliseconds(1500))

        try server.start()
        let back = await RedisTestSupport.eventually { store.isAvailable }
        XCTAssertTrue(back, "reconnects in the background without a restart")
        try await store.set("after", value: "restart", ttl: .seconds(60))
        let value = try await store.get("after")
        XCTAssertEqual(value, "restart")
        let decision = try await store.acquire("rl:after", limit: RateLimit(ratePerSecond: 1, burst: 1))
        XCTAssertEqual(decision, .allowed, "the script is loaded again on the restarted service")
    }

    func testStalledServerTimesOutThenRecovers() async throws {
        let server = try RedisTestServer()
        defer {
            server.resume()
            server.kill()
        }
        let store = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port, timeoutMs: 300))
        defer { store.shutdown() }
        server.pause()
        let started = ContinuousClock.now
        let error = await RedisTestSupport.unavailable { try await store.get("k") }
        XCTAssertTrue(error?.reason.contains("no reply within") == true, "\(String(describing: error))")
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(10))
        XCTAssertFalse(store.isAvailable)
        server.resume()
        let back = await RedisTestSupport.eventually { store.isAvailable }
        XCTAssertTrue(back)
        let value = try await store.get("k")
        XCTAssertNil(value)
    }

    func testSubscriptionsComeBackAfterARestart() async throws {
        let server = try RedisTestServer()
        defer { server.kill() }
        let publisher = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port))
        let subscriber = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port))
        defer {
            publisher.shutdown()
            subscriber.shutdown()
        }
        let received = ReceivedMessages()
        subscriber.subscribe("events") { received.append($0) }
        let first = await RedisTestSupport.eventually {
            try? await publisher.publish("events", "before")
            return received.all.contains("before")
        }
        XCTAssertTrue(first)
        server.kill()
        try server.start()
        let again = await RedisTestSupport.eventually {
            try? await publisher.publish("events", "after")
            return received.all.contains("after")
        }
        XCTAssertTrue(again, "the subscriber subscribes again after reconnecting")
    }

    func testPendingCommandsAreCappedAndTheRestFailFast() async throws {
        let server = try RedisTestServer()
        defer {
            server.resume()
            server.kill()
        }
        let store = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port, timeoutMs: 5000))
        defer { store.shutdown() }
        server.pause()
        let extra = 100
        let reasons = await withTaskGroup(of: String.self) { group in
            for i in 0..<(RedisConnection.maxPending + extra) {
                group.addTask {
                    do {
                        _ = try await store.get("k\(i)")
                        return "answered"
                    } catch let error as SharedStateUnavailable {
                        return error.reason
                    } catch {
                        return "other"
                    }
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        XCTAssertEqual(reasons.filter { $0.contains("commands already waiting") }.count, extra)
        XCTAssertEqual(reasons.filter { $0.contains("no reply within") }.count, RedisConnection.maxPending)
        XCTAssertFalse(store.isAvailable)
    }

    func testPasswordAndUsernameLogIn() async throws {
        let server = try RedisTestServer(password: "s3cret-pw")
        defer { server.kill() }
        setenv("REDIS_TEST_GOOD_PW", "s3cret-pw", 1)
        let store = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port, passwordVariable: "REDIS_TEST_GOOD_PW"))
        defer { store.shutdown() }
        try await store.set("auth", value: "ok", ttl: .seconds(10))
        let value = try await store.get("auth")
        XCTAssertEqual(value, "ok")
        let withUser = await RedisTestSupport.connectedStore(
            RedisTestSupport.settings(port: server.port, passwordVariable: "REDIS_TEST_GOOD_PW", username: "default"))
        defer { withUser.shutdown() }
        let seen = try await withUser.get("auth")
        XCTAssertEqual(seen, "ok")
    }

    func testWrongOrMissingPasswordIsAClearErrorAndNeverLogsTheValue() async throws {
        let server = try RedisTestServer(password: "s3cret-pw")
        defer { server.kill() }
        setenv("REDIS_TEST_BAD_PW", "not-the-password", 1)
        let wrong = RedisStore(settings: RedisTestSupport.settings(port: server.port, passwordVariable: "REDIS_TEST_BAD_PW"), logger: RedisTestSupport.logger)
        defer { wrong.shutdown() }
        let refused = await RedisTestSupport.eventually {
            let e = await RedisTestSupport.unavailable { try await wrong.get("k") }
            return e?.reason.contains("AUTH refused") == true
        }
        XCTAssertTrue(refused)
        let error = await RedisTestSupport.unavailable { try await wrong.get("k") }
        XCTAssertTrue(error?.reason.contains("WRONGPASS") == true || error?.reason.contains("invalid password") == true, "\(String(describing: error))")
        XCTAssertFalse(error?.reason.contains("not-the-password") == true)
        XCTAssertFalse(wrong.isAvailable)

        let none = RedisStore(settings: RedisTestSupport.settings(port: server.port), logger: RedisTestSupport.logger)
        defer { none.shutdown() }
        let noauth = await RedisTestSupport.eventually {
            let e = await RedisTestSupport.unavailable { try await none.get("k") }
            return e?.reason.contains("NOAUTH") == true
        }
        XCTAssertTrue(noauth)

        let unset = RedisStore(settings: RedisTestSupport.settings(port: server.port, passwordVariable: "REDIS_TEST_UNSET_PW"), logger: RedisTestSupport.logger)
        defer { unset.shutdown() }
        let named = await RedisTestSupport.eventually {
            let e = await RedisTestSupport.unavailable { try await unset.get("k") }
            return e?.reason.contains("REDIS_TEST_UNSET_PW") == true
        }
        XCTAssertTrue(named, "an unreadable password names its reference")
    }

    func testNothingListeningFailsFast() async throws {
        let port = try RedisTestServer.freePort()
        let store = RedisStore(settings: RedisTestSupport.settings(port: port, timeoutMs: 5000), logger: RedisTestSupport.logger)
        defer { store.shutdown() }
        let started = ContinuousClock.now
        let error = await RedisTestSupport.unavailable { try await store.get("k") }
        XCTAssertNotNil(error)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(4), "a refused connection does not wait for the timeout")
        XCTAssertFalse(store.isAvailable)
    }

    func testShutdownFailsLaterCommands() async throws {
        let server = try RedisTestServer()
        defer { server.kill() }
        let store = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port))
        store.shutdown()
        let error = await RedisTestSupport.unavailable { try await store.get("k") }
        XCTAssertTrue(error?.reason.contains("shut down") == true)
    }

    // MARK: Hostile service

    func testGarbageReplyIsAnErrorNotACrash() async throws { try await hostile("garbage", expect: "malformed reply") }
    func testHugeReplyIsRefused() async throws { try await hostile("huge", expect: "reply larger than") }
    func testArrayOfTwoBillionElementsIsRefused() async throws { try await hostile("wide", expect: "too many elements") }
    func testUnsolicitedRepliesDropTheConnection() async throws { try await hostile("unsolicited", expect: nil) }
    func testDeeplyNestedReplyIsRefused() async throws { try await hostile("deep", expect: "malformed reply") }
    func testWrongReplyTypeIsUnavailable() async throws { try await hostile("wrongtype", expect: "unexpected array reply") }

    /// Runs hostile_redis.py in `mode`; a GET must throw SharedStateUnavailable (containing `expect`) and the store
    /// must report unavailable, and the process must survive.
    private func hostile(_ mode: String, expect: String?) async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("hostile_redis.py").path
        let portFile = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString)").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, mode, portFile]
        try p.run()
        defer {
            // SIGKILL: a child of Foundation's Process starts with SIGTERM blocked, so terminate() would not end it.
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            try? FileManager.default.removeItem(atPath: portFile)
        }
        let listening = await RedisTestSupport.eventually(10) { FileManager.default.fileExists(atPath: portFile) }
        guard listening, let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) else {
            return XCTFail("hostile server did not start")
        }
        let store = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: port, timeoutMs: 3000))
        defer { store.shutdown() }
        let error = await RedisTestSupport.unavailable { try await store.get("k") }
        if let expect { XCTAssertTrue(error?.reason.contains(expect) == true, "\(mode): \(String(describing: error))") }
        if mode == "unsolicited" {
            // The extra replies arrive with or after the first: the connection is dropped as soon as they are seen.
            let dropped = await RedisTestSupport.eventually(5) { !store.isAvailable }
            XCTAssertTrue(dropped)
        } else {
            XCTAssertFalse(store.isAvailable, mode)
        }
    }
}
