// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import XCTest

/// `server.shared_state` is read strictly: a bad address, replica count, prefix or TLS combination is refused with
/// its key path, and without a request-state key the replicas could not open each other's sessions.
final class SharedStateConfigTests: XCTestCase {
    override func setUp() {
        setenv("SHARED_CFG_KEY", String(repeating: "k", count: 40), 1)
        setenv("SHARED_CFG_REPLICAS", "3", 1)
        setenv("SHARED_CFG_PASSWORD", "pw", 1)
    }

    func parse(_ sharedState: String, requestState: String = "request_state: { key: env:SHARED_CFG_KEY }") throws -> BrokerConfiguration {
        try BrokerConfiguration.parse(yaml: """
            server:
              \(requestState)
              shared_state: \(sharedState)
            backends: {}
            """)
    }

    func refusal(_ sharedState: String, requestState: String = "request_state: { key: env:SHARED_CFG_KEY }") -> String {
        do {
            _ = try parse(sharedState, requestState: requestState)
            return "accepted"
        } catch {
            return String(describing: error)
        }
    }

    func testAFullSectionIsRead() throws {
        let c = try parse("""
            { redis: { address: "redis.internal:6380", username: broker, password: env:SHARED_CFG_PASSWORD, database: 2, tls: true,
                       tls_server_name: redis.example }, replicas: env:SHARED_CFG_REPLICAS, timeout_ms: 250, key_prefix: "prod:" }
            """)
        let s = try XCTUnwrap(c.server.sharedState)
        XCTAssertEqual(s.redis.host, "redis.internal")
        XCTAssertEqual(s.redis.port, 6380)
        XCTAssertEqual(s.redis.username, "broker")
        XCTAssertEqual(s.redis.password?.description, "env:SHARED_CFG_PASSWORD")
        XCTAssertEqual(s.redis.database, 2)
        XCTAssertTrue(s.redis.tls)
        XCTAssertEqual(s.redis.tlsServerName, "redis.example")
        XCTAssertEqual(s.replicas, .environment("SHARED_CFG_REPLICAS"))
        XCTAssertEqual(s.replicas.resolved, 3)
        XCTAssertEqual(s.timeoutMilliseconds, 250)
        XCTAssertEqual(s.keyPrefix, "prod:")
    }

    func testDefaultsAndNoSectionMeanOneProcess() throws {
        let s = try XCTUnwrap(try parse("{ redis: { address: \"[::1]:6379\" } }").server.sharedState)
        XCTAssertEqual(s.redis.host, "::1")
        XCTAssertEqual(s.replicas.resolved, 1)
        XCTAssertEqual(s.timeoutMilliseconds, 100)
        XCTAssertEqual(s.keyPrefix, "mcp-broker:")
        let plain = try BrokerConfiguration.parse(yaml: "backends: {}")
        XCTAssertNil(plain.server.sharedState)
    }

    func testBadValuesAreRefusedWithTheirKey() {
        let cases: [(String, String)] = [
            ("{ redis: { address: redis.internal } }", "server.shared_state.redis.address"),
            ("{ redis: { address: \"redis:0\" } }", "server.shared_state.redis.address"),
            ("{ redis: { address: \"redis:99999\" } }", "server.shared_state.redis.address"),
            ("{ redis: { address: \"redis:6379\", password: hunter2 } }", "inline secrets are refused"),
            ("{ redis: { address: \"redis:6379\", database: 16 } }", "server.shared_state.redis.database"),
            ("{ redis: { address: \"redis:6379\", tls_server_name: x } }", "need tls: true"),
            ("{ redis: { address: \"redis:6379\", tls: true, tls_ca_file: /nonexistent/ca.pem } }", "is not a readable file"),
            ("{ redis: { address: \"redis:6379\" }, replicas: 0 }", "server.shared_state.replicas"),
            ("{ redis: { address: \"redis:6379\" }, replicas: env:SHARED_CFG_UNSET }", "server.shared_state.replicas"),
            ("{ redis: { address: \"redis:6379\" }, replicas: many }", "server.shared_state.replicas"),
            ("{ redis: { address: \"redis:6379\" }, timeout_ms: 0 }", "server.shared_state.timeout_ms"),
            ("{ redis: { address: \"redis:6379\" }, key_prefix: \"has space\" }", "server.shared_state.key_prefix"),
            ("{ redis: { address: \"redis:6379\" }, typo: 1 }", "typo"),
            ("{ replicas: 2 }", "server.shared_state.redis"),
        ]
        for (section, expected) in cases {
            let message = refusal(section)
            XCTAssertTrue(message.contains(expected), "\(section): \(message)")
        }
    }

    func testReplicasNeedTheRequestStateKey() {
        let message = refusal("{ redis: { address: \"redis:6379\" } }", requestState: "log_level: info")
        XCTAssertTrue(message.contains("request_state") && message.contains("shared_state"), message)
    }

    func testAnUnusableEnvironmentCountResolvesToOne() {
        setenv("SHARED_CFG_REPLICAS", "not-a-number", 1)
        XCTAssertEqual(ReplicaCount.environment("SHARED_CFG_REPLICAS").resolved, 1)
        setenv("SHARED_CFG_REPLICAS", "999999999", 1)
        XCTAssertEqual(ReplicaCount.environment("SHARED_CFG_REPLICAS").resolved, 10_000)
        XCTAssertEqual(ReplicaCount.fixed(-4).resolved, 1)
    }
}
