// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import XCTest

/// Sealed session ids and backend tokens: portable between replicas with one key, bound, expiring, tamper-evident,
/// and rotated by accepting the previous key.
final class SealingTests: XCTestCase {
    typealias ManualClock = RequestStateTests.ManualClock

    let key = KeyMaterial(current: Array("0123456789abcdef0123456789abcdef-current".utf8))
    let oldKey = KeyMaterial(current: Array("0123456789abcdef0123456789abcdef-old-one".utf8))
    let alice = Principal(id: "alice", tenant: "acme")

    /// Flips one character of a base64url token (a different, still canonical, token).
    func tamper(_ token: String, at index: Int) -> String {
        var chars = Array(token)
        chars[index] = chars[index] == "A" ? "B" : "A"
        return String(chars)
    }

    // MARK: - Session ids

    func testSessionIDsOpenOnEveryReplicaWithTheKeyAndCarryTheHandshake() throws {
        let a = SessionIDSealer(material: key), b = SessionIDSealer(material: key)
        let issued = try XCTUnwrap(a.issue(owner: alice.bindingKey, protocolVersion: "2025-11-25", clientName: "claude-code", supportsElicitation: true))
        XCTAssertEqual(issued.id.utf8.count, SessionIDSealer.idLength)
        XCTAssertTrue(issued.id.unicodeScalars.allSatisfy { (0x21...0x7E).contains($0.value) })
        let claims = try XCTUnwrap(b.open(issued.id))
        XCTAssertEqual(claims, issued.claims)
        XCTAssertEqual(claims.sidHex.count, 32)
        XCTAssertEqual(claims.protocolVersion, "2025-11-25")
        XCTAssertEqual(claims.clientName, "claude-code")
        XCTAssertTrue(claims.supportsElicitation)
        XCTAssertTrue(claims.isOwned(by: alice.bindingKey))
        XCTAssertFalse(claims.isOwned(by: Principal(id: "alice", tenant: "globex").bindingKey), "same id in another tenant is another owner")
        let other = try XCTUnwrap(a.issue(owner: alice.bindingKey, protocolVersion: "2025-11-25", clientName: "claude-code", supportsElicitation: true))
        XCTAssertNotEqual(other.claims.sid, claims.sid, "every session gets its own sid")
    }

    func testSessionIDsHaveOneLengthWhateverTheClientName() throws {
        let sealer = SessionIDSealer(material: key)
        let long = String(repeating: "é", count: 100)  // 200 bytes: cut to 64 at a character boundary
        let names: [String?] = [nil, "", "x", long]
        let ids = try names.map { try XCTUnwrap(sealer.issue(owner: "o", protocolVersion: "2025-06-18", clientName: $0, supportsElicitation: false)).id }
        XCTAssertEqual(Set(ids.map(\.utf8.count)), [SessionIDSealer.idLength])
        XCTAssertNil(try XCTUnwrap(sealer.open(ids[0])).clientName)
        XCTAssertEqual(try XCTUnwrap(sealer.open(ids[1])).clientName, "")
        XCTAssertEqual(try XCTUnwrap(sealer.open(ids[3])).clientName, String(repeating: "é", count: 32))
    }

    func testTamperedForeignAndMalformedSessionIDsDoNotOpen() throws {
        let sealer = SessionIDSealer(material: key)
        let id = try XCTUnwrap(sealer.issue(owner: "o", protocolVersion: "2025-11-25", clientName: "c", supportsElicitation: false)).id
        for i in [0, 1, 20, 100, id.count - 2] { XCTAssertNil(sealer.open(tamper(id, at: i)), "altered at \(i)") }
        XCTAssertNil(SessionIDSealer(material: oldKey).open(id), "another deployment's key")
        XCTAssertNil(sealer.open(String(repeating: "0", count: 32)))
        XCTAssertNil(sealer.open(id + "A"))
        XCTAssertNil(sealer.open(""))
    }

    func testRotationOpensWithThePreviousKeyAndSealsWithTheCurrent() throws {
        let old = SessionIDSealer(material: oldKey)
        let id = try XCTUnwrap(old.issue(owner: "o", protocolVersion: "2025-11-25", clientName: "c", supportsElicitation: false)).id
        let rotated = SessionIDSealer(material: KeyMaterial(current: key.current, previous: oldKey.current))
        XCTAssertNotNil(rotated.open(id), "ids issued before the rotation keep working")
        let fresh = try XCTUnwrap(rotated.issue(owner: "o", protocolVersion: "2025-11-25", clientName: "c", supportsElicitation: false)).id
        XCTAssertNil(old.open(fresh), "new ids are sealed with the current key")
        XCTAssertNotNil(SessionIDSealer(material: key).open(fresh))
        XCTAssertNil(SessionIDSealer(material: key).open(id), "once the previous key is dropped, its ids are gone")
        // The request states rotate the same way.
        let binding = RequestStateBinding(tenant: "t", principal: "p", tool: "x", argumentsDigest: "d")
        let state = RequestStateSealer(keys: oldKey, ttl: .seconds(60), used: UsedRequestStates(capacity: 10)).seal(binding)
        let opened = RequestStateSealer(keys: KeyMaterial(current: key.current, previous: oldKey.current), ttl: .seconds(60), used: UsedRequestStates(capacity: 10))
            .open(state, for: binding)
        XCTAssertNoThrow(try opened.get())
    }

    // MARK: - Tokens (cursors)

    func testTokensOpenAnywhereWithTheKeyForTheSamePurposeAndPrincipalOnly() throws {
        let clock = ManualClock()
        let a = SealedTokens(material: key, now: clock.read), b = SealedTokens(material: key, now: clock.read)
        let payload: JSONValue = ["offset": 20, "sql": "select 1"]
        let token = try XCTUnwrap(a.seal(payload, purpose: "pg:w:cursor", for: alice, ttl: .seconds(600)))
        XCTAssertEqual(b.open(token, purpose: "pg:w:cursor", for: alice), payload)
        XCTAssertNil(b.open(token, purpose: "pg:other:cursor", for: alice), "another purpose (backend)")
        XCTAssertNil(b.open(token, purpose: "pg:w:cursor", for: Principal(id: "bob", tenant: "acme")), "another principal")
        XCTAssertNil(b.open(token, purpose: "pg:w:cursor", for: Principal(id: "alice", tenant: "globex")), "another tenant")
        XCTAssertNil(SealedTokens(material: oldKey, now: clock.read).open(token, purpose: "pg:w:cursor", for: alice), "another key")
        XCTAssertNil(SealedTokens.process.open(token, purpose: "pg:w:cursor", for: alice), "this process's own key is not the deployment's")
        for i in [0, 3, 30, token.count - 1] { XCTAssertNil(b.open(tamper(token, at: i), purpose: "pg:w:cursor", for: alice), "altered at \(i)") }
        XCTAssertNil(b.open(token, purpose: "pg:w:cursor", for: alice, maxLength: token.count - 1), "longer than the caller allows")
        clock.advance(599)
        XCTAssertNotNil(b.open(token, purpose: "pg:w:cursor", for: alice))
        clock.advance(1)
        XCTAssertNil(b.open(token, purpose: "pg:w:cursor", for: alice), "expired")
    }

    func testTokenPayloadCapAndLength() throws {
        let tokens = SealedTokens(material: key)
        let big: JSONValue = ["sql": .string(String(repeating: "x", count: 2000))]
        XCTAssertNil(tokens.seal(big, purpose: "p", for: alice, ttl: .seconds(60), maxPayloadBytes: 1000), "over the cap: no token")
        let token = try XCTUnwrap(tokens.seal(big, purpose: "p", for: alice, ttl: .seconds(60), maxPayloadBytes: 4000))
        XCTAssertEqual(token.utf8.count, SealedTokens.tokenLength(payloadBytes: JSONWriter.encode(big).count))
    }

    // MARK: - Configuration

    func testSharedStateNeedsTheRequestStateKeyAndPreviousKeyIsChecked() throws {
        let name = "MCPB_TEST_SEAL_KEY_\(UInt32.random(in: 0...UInt32.max))"
        setenv(name, "a-shared-request-state-key-of-40-bytes!!", 1)
        setenv(name + "_OLD", "short", 1)
        defer {
            unsetenv(name)
            unsetenv(name + "_OLD")
        }
        let shared = "  shared_state: { redis: { address: \"127.0.0.1:6379\" } }\n"
        XCTAssertThrowsError(try BrokerConfiguration.parse(yaml: "server:\n" + shared, file: "b.yaml")) { error in
            XCTAssertTrue(String(describing: error).contains("key is required with shared_state"), "\(error)")
        }
        let keyed = "server:\n  request_state: { key: env:\(name) }\n" + shared
        let settings = try BrokerConfiguration.parse(yaml: keyed, file: "b.yaml").server
        XCTAssertNotNil(settings.sharedState)
        XCTAssertNil(settings.requestState.previousKey)
        XCTAssertThrowsError(try BrokerConfiguration.parse(yaml: "server:\n  request_state: { key: env:\(name), previous_key: env:\(name)_OLD }\n", file: "b.yaml")) {
            XCTAssertTrue(String(describing: $0).contains("server.request_state.previous_key: the key must be at least 32 bytes"), "\($0)")
        }
        setenv(name + "_OLD", "the-previous-request-state-key-40-bytes!", 1)
        let rotating = try BrokerConfiguration.parse(yaml: "server:\n  request_state: { key: env:\(name), previous_key: env:\(name)_OLD }\n", file: "b.yaml")
        let material = try rotating.server.requestState.keyMaterial()
        XCTAssertEqual(material.previous, Array("the-previous-request-state-key-40-bytes!".utf8))
        XCTAssertThrowsError(try BrokerConfiguration.parse(yaml: "server:\n  request_state: { previous_key: env:\(name)_OLD }\n", file: "b.yaml"))
    }
}
