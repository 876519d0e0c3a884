// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import XCTest

@testable import BrokerRedis

/// RedisStore against a real redis-server: the operations, the GCRA bucket, pipelining and pub/sub.
final class RedisStoreTests: XCTestCase {
    private var server: RedisTestServer!

    override func setUp() async throws {
        server = try RedisTestServer()
    }

    override func tearDown() async throws {
        server.kill()
        server = nil
    }

    func testSetGetTouchDeleteAndExpiry() async throws {
        let store = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port))
        defer { store.shutdown() }
        let missing = try await store.get("nothing")
        XCTAssertNil(missing)
        try await store.set("k", value: "v1 ünïcode", ttl: .seconds(60))
        let v1 = try await store.get("k")
        XCTAssertEqual(v1, "v1 ünïcode")
        // The prefix is applied: the service holds test:k, not k.
        XCTAssertEqual(try server.cli(["GET", "test:k"]), "v1 ünïcode")
        XCTAssertEqual(try server.cli(["EXISTS", "k"]), "0")
        let pttl = Int(try server.cli(["PTTL", "test:k"])) ?? -1
        XCTAssertTrue((55_000...60_000).contains(pttl), "PTTL \(pttl)")

        let touched = try await store.touch("k", ttl: .milliseconds(150))
        XCTAssertTrue(touched)
        let touchedMissing = try await store.touch("absent", ttl: .seconds(5))
        XCTAssertFalse(touchedMissing)
        let expired = await RedisTestSupport.eventually(5) { (try? await store.get("k")) == .some(nil) }
        XCTAssertTrue(expired, "a touched key expires after its new TTL")

        try await store.set("d", value: "x", ttl: .seconds(60))
        let deleted = try await store.delete("d")
        XCTAssertTrue(deleted)
        let deletedAgain = try await store.delete("d")
        XCTAssertFalse(deletedAgain)
        let afterDelete = try await store.get("d")
        XCTAssertNil(afterDelete)
    }

    func testClaimIsFirstWinsAndExpires() async throws {
        let store = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port))
        defer { store.shutdown() }
        let first = try await store.claim("token:1", value: "a", ttl: .milliseconds(200))
        let second = try await store.claim("token:1", value: "b", ttl: .seconds(10))
        XCTAssertTrue(first)
        XCTAssertFalse(second)
        let held = try await store.get("token:1")
        XCTAssertEqual(held, "a", "a lost claim does not overwrite")
        let claimable = await RedisTestSupport.eventually(5) { (try? await store.claim("token:1", value: "c", ttl: .seconds(10))) == true }
        XCTAssertTrue(claimable, "after expiry the key can be claimed again")
        // A zero or negative TTL is clamped to 1 ms rather than refused by the service.
        try await store.set("tiny", value: "x", ttl: .zero)
        let big = try await store.claim("huge", value: "x", ttl: .seconds(Int64.max / 2))
        XCTAssertTrue(big)
    }

    func testGCRAAllowsTheBurstThenLimitsWithRetryAfter() async throws {
        let store = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port))
        defer { store.shutdown() }
        let limit = RateLimit(ratePerSecond: 10, burst: 20)
        var allowed = 0
        for _ in 0..<20 where try await store.acquire("rl:a", limit: limit) == .allowed { allowed += 1 }
        XCTAssertEqual(allowed, 20)
        let next = try await store.acquire("rl:a", limit: limit)
        guard case .limited(let retryAfter) = next else { return XCTFail("21st call: \(next)") }
        XCTAssertGreaterThan(retryAfter, .zero)
        XCTAssertLessThanOrEqual(retryAfter, .milliseconds(100))
        // The bucket key carries a TTL, so an idle bucket disappears.
        let pttl = Int(try server.cli(["PTTL", "test:rl:a"])) ?? -1
        XCTAssertGreaterThan(pttl, 0)
        // Another key is another bucket.
        let other = try await store.acquire("rl:b", limit: limit)
        XCTAssertEqual(other, .allowed)
    }

    /// A call's limits are one round trip, all or none: a refusal by one bucket charges none of the others.
    func testSeveralBucketsAreChargedAllOrNone() async throws {
        let store = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port))
        defer { store.shutdown() }
        let hourly = { (burst: Int) in RateLimit(ratePerSecond: 1.0 / 3600, burst: burst) }
        let pair = [SharedBucket(key: "rl:tenant", limit: hourly(5)), SharedBucket(key: "rl:tool", limit: hourly(2))]
        let first = try await store.acquire(pair)
        let second = try await store.acquire(pair)
        XCTAssertNil(first)
        XCTAssertNil(second)
        guard let refusal = try await store.acquire(pair) else { return XCTFail("the tool bucket holds 2") }
        XCTAssertEqual(refusal.bucket, 1, "the tool bucket refuses")
        XCTAssertGreaterThan(refusal.retryAfter, .seconds(3000))
        // The tenant bucket was charged twice, not three times: three of its five tokens are left.
        var left = 0
        for _ in 0..<5 where try await store.acquire("rl:tenant", limit: hourly(5)) == .allowed { left += 1 }
        XCTAssertEqual(left, 3)
        let none = try await store.acquire([])
        XCTAssertNil(none)
    }

    func testTwoReplicasShareOneBucket() async throws {
        let a = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port))
        let b = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port))
        defer {
            a.shutdown()
            b.shutdown()
        }
        let limit = RateLimit(ratePerSecond: 1.0 / 3600, burst: 10)
        var allowedA = 0, allowedB = 0
        for i in 0..<10 {
            let store = i % 2 == 0 ? a : b
            if try await store.acquire("rl:shared", limit: limit) == .allowed {
                if i % 2 == 0 { allowedA += 1 } else { allowedB += 1 }
            }
        }
        XCTAssertEqual(allowedA + allowedB, 10)
        let fromA = try await a.acquire("rl:shared", limit: limit)
        let fromB = try await b.acquire("rl:shared", limit: limit)
        guard case .limited(let retryA) = fromA, case .limited = fromB else { return XCTFail("bucket not shared: \(fromA) \(fromB)") }
        // One token per hour: the wait is most of an hour.
        XCTAssertGreaterThan(retryA, .seconds(3000))
    }

    func testScriptIsReloadedAfterScriptFlush() async throws {
        let store = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port))
        defer { store.shutdown() }
        let limit = RateLimit(ratePerSecond: 100, burst: 5)
        let first = try await store.acquire("rl:f", limit: limit)
        XCTAssertEqual(first, .allowed)
        XCTAssertEqual(try server.cli(["SCRIPT", "FLUSH"]), "OK")
        let second = try await store.acquire("rl:f", limit: limit)
        XCTAssertEqual(second, .allowed, "NOSCRIPT falls back to EVAL")
        XCTAssertEqual(try server.cli(["SCRIPT", "EXISTS", GCRAScript.sha1]), "1")
    }

    func testThousandConcurrentCommandsAreAllAnsweredInOrder() async throws {
        let store = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port, timeoutMs: 10_000))
        defer { store.shutdown() }
        for i in 0..<1000 { try await store.set("p:\(i)", value: "value-\(i)", ttl: .seconds(60)) }
        // Distinct keys with distinct values: a reply matched to the wrong command would show as a wrong value.
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<1000 {
                group.addTask { try await store.get("p:\(i)") == "value-\(i)" ? 0 : 1 }
            }
            return try await group.reduce(0, +)
        }
        XCTAssertEqual(mismatches, 0)
        let limit = RateLimit(ratePerSecond: 1.0 / 3600, burst: 500)
        let allowed = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<1000 {
                group.addTask { try await store.acquire("rl:p", limit: limit) == .allowed ? 1 : 0 }
            }
            return try await group.reduce(0, +)
        }
        XCTAssertEqual(allowed, 500)
    }

    func testPublishReachesSubscribersOfOtherStoresAndOnlyThem() async throws {
        let publisher = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port))
        let subscriber = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port))
        let otherDeployment = await RedisTestSupport.connectedStore(RedisTestSupport.settings(port: server.port, prefix: "other:"))
        defer {
            publisher.shutdown()
            subscriber.shutdown()
            otherDeployment.shutdown()
        }
        let received = ReceivedMessages(), foreign = ReceivedMessages()
        subscriber.subscribe("replica:r1") { received.append($0) }
        otherDeployment.subscribe("replica:r1") { foreign.append($0) }
        // Subscription happens in the background: publish probes until one arrives.
        let subscribed = await RedisTestSupport.eventually {
            try? await publisher.publish("replica:r1", "probe")
            return received.all.contains("probe")
        }
        XCTAssertTrue(subscribed)
        XCTAssertEqual(try server.cli(["PUBSUB", "NUMSUB", "test:replica:r1"]).split(separator: "\n").last.map(String.init), "1")
        try await publisher.publish("replica:r1", "hello ✓")
        let delivered = await RedisTestSupport.eventually { received.all.last == "hello ✓" }
        XCTAssertTrue(delivered, "received \(received.all.suffix(3))")
        XCTAssertTrue(foreign.all.isEmpty, "another key_prefix is another deployment")
    }
}
