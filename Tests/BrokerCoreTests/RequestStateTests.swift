// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import Synchronization
import XCTest

/// The MRTR requestState: sealed, bound, expiring, single use, and portable between replicas with one key.
final class RequestStateTests: XCTestCase {
    /// A clock the test moves by hand (no sleeping).
    final class ManualClock: Sendable {
        private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        var now: Date { current.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
        var read: @Sendable () -> Date { { [self] in self.now } }
    }

    let key = Array("0123456789abcdef0123456789abcdef".utf8)
    let binding = RequestStateBinding(tenant: "acme", principal: "alice", tool: "crm__delete_contact", argumentsDigest: RequestStateBinding.digest(of: ["id": "42"]))

    func sealer(key: [UInt8]? = nil, clock: ManualClock = ManualClock(), used: UsedRequestStates = UsedRequestStates(capacity: 100)) -> RequestStateSealer {
        RequestStateSealer(keyMaterial: key ?? self.key, ttl: .seconds(300), used: used, now: clock.read)
    }

    /// Base64url helpers of the test's own (Foundation's decoder), to alter tokens byte by byte.
    func decode(_ token: String) throws -> [UInt8] {
        var b64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        b64 += String(repeating: "=", count: (4 - b64.count % 4) % 4)
        return Array(try XCTUnwrap(Data(base64Encoded: b64)))
    }

    func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    func refusal(_ result: Result<Void, RequestStateRefusal>) -> RequestStateRefusal? {
        if case .failure(let r) = result { return r }
        return nil
    }

    func testASealedStateOpensForItsBinding() throws {
        let s = sealer()
        let token = s.seal(binding)
        XCTAssertEqual(token.count, 252, "189 bytes: version | nonce | 160-byte payload | tag, base64url")
        XCTAssertTrue(token.utf8.allSatisfy { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) })
        XCTAssertEqual(try decode(token).first, 1, "version byte")
        XCTAssertNil(refusal(s.open(token, for: binding)))
        XCTAssertNotEqual(s.seal(binding), s.seal(binding), "every state is fresh")
        XCTAssertFalse(token.contains("alice") || token.contains("acme"), "the binding is not readable from the token")
    }

    func testAnAlteredStateIsTampered() throws {
        let s = sealer()
        let token = s.seal(binding)
        var bytes = try decode(token)
        XCTAssertEqual(encode(bytes), token, "the helpers round-trip")
        for index in [bytes.count / 2, bytes.count - 1, 1] {
            var altered = bytes
            altered[index] ^= 0x01
            XCTAssertEqual(refusal(s.open(encode(altered), for: binding)), .tampered, "byte \(index)")
        }
        // Random bytes in the right shape (version 1, right size) are not forgeries either.
        bytes = [1] + (1..<bytes.count).map { _ in UInt8.random(in: 0...255) }
        XCTAssertEqual(refusal(s.open(encode(bytes), for: binding)), .tampered)
        XCTAssertNil(refusal(s.open(token, for: binding)), "the refusals did not use up the real state")
    }

    func testAStateSealedWithAnotherKeyIsTampered() {
        let other = sealer(key: Array("another key of at least 32 bytes!!".utf8))
        XCTAssertEqual(refusal(sealer().open(other.seal(binding), for: binding)), .tampered)
    }

    func testMalformedStatesAreRefusedBeforeDecryption() throws {
        let s = sealer()
        let token = s.seal(binding)
        var wrongVersion = try decode(token)
        wrongVersion[0] = 2
        let padded = Data(try decode(token)).base64EncodedString()
        let cases: [(String, String)] = [
            ("empty", ""),
            ("truncated by 4", String(token.dropLast(4))),
            ("truncated by 1", String(token.dropLast(1))),
            ("one byte short", encode(Array(try decode(token).dropLast()))),
            ("one byte long", encode(try decode(token) + [0])),
            ("garbage", "not a confirmation at all"),
            ("short base64", "aGVsbG8"),
            ("non-base64 characters", String(token.dropLast(2)) + "+/"),
            ("standard base64 with padding", padded),
            ("huge", String(repeating: "A", count: 9000)),
            ("another version", encode(wrongVersion)),
            ("whitespace", " " + token),
        ]
        for (name, text) in cases {
            XCTAssertEqual(refusal(s.open(text, for: binding)), .malformed, name)
        }
        XCTAssertNil(refusal(s.open(token, for: binding)))
    }

    func testAStateExpiresAfterItsTTL() {
        let clock = ManualClock()
        let s = sealer(clock: clock)
        let late = s.seal(binding), inTime = s.seal(binding)
        clock.advance(299.999)
        XCTAssertNil(refusal(s.open(inTime, for: binding)), "valid up to the last millisecond")
        clock.advance(0.001)
        XCTAssertEqual(refusal(s.open(late, for: binding)), .expired)
    }

    func testAStateIssuedInTheFutureIsRefusedBeyondTheSkew() {
        let clock = ManualClock()
        let s = sealer(clock: clock)
        clock.advance(61)
        let farAhead = s.seal(binding)
        clock.advance(-61 + 59)
        let slightlyAhead = s.seal(binding)
        clock.advance(-59)
        XCTAssertEqual(refusal(s.open(farAhead, for: binding)), .expired, "issued 61 s ahead of this replica's clock")
        XCTAssertNil(refusal(s.open(slightlyAhead, for: binding)), "59 s of clock skew is tolerated")
    }

    func testAStateOpensOnlyForItsOwnCall() {
        let s = sealer()
        let token = s.seal(binding)
        var others: [(String, RequestStateBinding)] = []
        for (name, change) in [
            ("tenant", { (b: inout RequestStateBinding) in b.tenant = "globex" }),
            ("principal", { $0.principal = "mallory" }),
            ("tool", { $0.tool = "crm__delete_account" }),
            ("arguments", { $0.argumentsDigest = RequestStateBinding.digest(of: ["id": "43"]) }),
            // Fields are hashed one by one: moving text from one field to the next is another binding.
            ("field boundary", { $0.tenant = "acmealice"; $0.principal = "" }),
        ] as [(String, (inout RequestStateBinding) -> Void)] {
            var other = binding
            change(&other)
            others.append((name, other))
        }
        for (name, other) in others {
            XCTAssertEqual(refusal(s.open(token, for: other)), .mismatched, name)
        }
        XCTAssertNil(refusal(s.open(token, for: binding)), "a mismatch does not use the state up")
    }

    func testAStateOpensOnce() {
        let s = sealer()
        let token = s.seal(binding)
        XCTAssertNil(refusal(s.open(token, for: binding)))
        XCTAssertEqual(refusal(s.open(token, for: binding)), .replayed)
        XCTAssertEqual(refusal(s.open(token, for: binding)), .replayed)
    }

    func testReplicasWithOneKeyVerifyEachOther() {
        let clock = ManualClock()
        let a = sealer(clock: clock), b = sealer(clock: clock)
        let fromA = a.seal(binding), fromB = b.seal(binding)
        XCTAssertNil(refusal(b.open(fromA, for: binding)), "no memory of round 1 is needed")
        XCTAssertNil(refusal(a.open(fromB, for: binding)))
        // Single use is per used-set: separate sets (separate processes) each let a state open once.
        XCTAssertNil(refusal(a.open(fromA, for: binding)))
        XCTAssertEqual(refusal(a.open(fromA, for: binding)), .replayed)

        let shared = UsedRequestStates(capacity: 10)
        let c = sealer(clock: clock, used: shared), d = sealer(clock: clock, used: shared)
        let token = c.seal(binding)
        XCTAssertNil(refusal(d.open(token, for: binding)))
        XCTAssertEqual(refusal(c.open(token, for: binding)), .replayed, "one set: one use across sealers (a reload)")
    }

    func testAFullUsedSetFailsClosedUntilStatesExpire() {
        let clock = ManualClock()
        let used = UsedRequestStates(capacity: 2)
        let s = sealer(clock: clock, used: used)
        let tokens = (0..<3).map { _ in s.seal(binding) }
        XCTAssertNil(refusal(s.open(tokens[0], for: binding)))
        XCTAssertNil(refusal(s.open(tokens[1], for: binding)))
        XCTAssertEqual(refusal(s.open(tokens[2], for: binding)), .replayed, "full: refused, not grown")
        XCTAssertEqual(used.count, 2)
        // Once the recorded states expire their identities are pruned and new states open again.
        clock.advance(300)
        let fresh = s.seal(binding)
        XCTAssertNil(refusal(s.open(fresh, for: binding)))
        XCTAssertEqual(used.count, 1)
        XCTAssertEqual(refusal(s.open(fresh, for: binding)), .replayed)
        XCTAssertEqual(refusal(s.open(tokens[2], for: binding)), .expired)

        let none = sealer(used: UsedRequestStates(capacity: 0))
        XCTAssertEqual(refusal(none.open(none.seal(binding), for: binding)), .replayed)
    }

    func testTheArgumentDigestIsCanonical() throws {
        func digest(_ json: String) throws -> String {
            RequestStateBinding.digest(of: try XCTUnwrap(try JSONParser.parse(json).objectValue))
        }
        let a = try digest(#"{"a":1,"b":{"c":[1,"x"],"d":true}}"#)
        XCTAssertEqual(a, "21dbf38c3dbd35836b8575d38b52584899eedc8d932222e181c7797936e04ff6", "SHA-256 of the sorted compact JSON")
        XCTAssertEqual(try digest(#"{ "b": {"d": true, "c": [1, "x"]}, "a": 1 }"#), a, "key order and spacing do not matter")
        XCTAssertNotEqual(try digest(#"{"a":2,"b":{"c":[1,"x"],"d":true}}"#), a)
        XCTAssertNotEqual(try digest(#"{"a":1,"b":{"c":["x",1],"d":true}}"#), a, "array order does")
        XCTAssertNotEqual(try digest(#"{"a":"1","b":{"c":[1,"x"],"d":true}}"#), a, "types do")
        XCTAssertEqual(RequestStateBinding.digest(of: [:]), "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "SHA-256 of {}")
    }

    func testRefusalsTellTheClientWhatToDo() {
        let all: [RequestStateRefusal] = [.malformed, .tampered, .expired, .mismatched, .replayed]
        XCTAssertEqual(all.map(\.reason), ["malformed", "tampered", "expired", "mismatched", "replayed"])
        for r in all {
            XCTAssertTrue(r.message.contains("confirmation"), r.message)
            XCTAssertTrue(r.message.contains("call the tool again"), r.message)
        }
        XCTAssertEqual(Set(all.map(\.message)).count, all.count)
    }

    // MARK: - Building the sealer from settings

    func testSettingsWithAKeyBuildSealersThatShareIt() throws {
        let name = "MCPB_TEST_RS_KEY_\(UInt32.random(in: 0...UInt32.max))"
        setenv(name, "a-shared-request-state-key-of-40-bytes!!", 1)
        defer { unsetenv(name) }
        let settings = RequestStateSettings(key: try XCTUnwrap(SecretReference(parsing: "env:" + name)), ttlSeconds: 60)
        let a = try settings.makeSealer(used: UsedRequestStates(capacity: 10))
        let b = try settings.makeSealer(used: UsedRequestStates(capacity: 10))
        XCTAssertNil(refusal(b.open(a.seal(binding), for: binding)))
        let unkeyed = try RequestStateSettings().makeSealer(used: UsedRequestStates(capacity: 10))
        XCTAssertEqual(refusal(unkeyed.open(a.seal(binding), for: binding)), .tampered, "the process key is not the configured one")
        // A rotated key: sealers built after the rotation refuse the old states.
        setenv(name, "the-rotated-request-state-key-of-40-byte", 1)
        let rotated = try settings.makeSealer(used: UsedRequestStates(capacity: 10))
        XCTAssertEqual(refusal(rotated.open(a.seal(binding), for: binding)), .tampered)

        setenv(name, "too-short", 1)
        XCTAssertThrowsError(try settings.makeSealer()) { error in
            XCTAssertTrue(String(describing: error).contains("server.request_state.key: the key must be at least 32 bytes (it has 9)"), "\(error)")
            XCTAssertFalse(String(describing: error).contains("too-short"), "the secret is never printed")
        }
        unsetenv(name)
        XCTAssertThrowsError(try settings.makeSealer()) { error in
            XCTAssertTrue(String(describing: error).contains("not set"), "\(error)")
        }
    }

    func testWithoutAKeyTheProcessKeyOutlivesReloads() throws {
        let clock = ManualClock()
        let before = try RequestStateSettings().makeSealer(used: UsedRequestStates(capacity: 10), now: clock.read)
        let after = try RequestStateSettings(ttlSeconds: 10).makeSealer(used: UsedRequestStates(capacity: 10), now: clock.read)
        XCTAssertNil(refusal(after.open(before.seal(binding), for: binding)), "a reload builds a new sealer with the same process key")
        let short = after.seal(binding)
        clock.advance(10)
        XCTAssertEqual(refusal(before.open(short, for: binding)), .expired, "ttl_seconds is applied")
    }
}
