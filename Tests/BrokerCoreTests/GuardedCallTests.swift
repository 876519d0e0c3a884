// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import MCPCore
import Synchronization
import XCTest

/// The resilience machinery wired into tool calls: tenant limits, the per-backend breaker and the cache, through
/// the MCP server with an in-memory backend that counts its calls.
final class GuardedCallTests: XCTestCase {
    func server(limits: ServerLimits = ServerLimits(), resilience: BackendResilience) throws -> (MCPServer, TestBackend) {
        try makeGuardedServer(limits: limits, resilience: resilience, label: "guard-test")
    }

    func call(_ server: MCPServer, _ p: Principal, _ tool: String, _ args: JSONValue = [:]) async throws -> JSONValue {
        let s = Session(id: nil, ownerID: p.bindingKey)
        _ = await server.dispatch(RPCRequest(id: .int(0), method: "initialize", params: ["protocolVersion": "2025-11-25"]), session: s, principal: p, notify: nil)
        return try await server.dispatch(
            RPCRequest(id: .int(1), method: "tools/call", params: ["name": .string(tool), "arguments": args]), session: s, principal: p, notify: nil
        ).get()
    }

    func code(_ r: JSONValue) -> String? { r["_meta"]?["mcp-broker/error"]?["code"]?.stringValue }

    func testCacheIsPerTenantAndPerArguments() async throws {
        var r = BackendResilience()
        r.cache = CacheSettings(tools: ["echo"], ttl: .seconds(60), maxEntries: 100, shareWithinRole: true)
        let (server, backend) = try server(resilience: r)
        let acme = Principal(id: "u1", tenant: "acme"), acme2 = Principal(id: "u2", tenant: "acme"), globex = Principal(id: "u1", tenant: "globex")
        _ = try await call(server, acme, "a__echo", ["text": "x"])
        _ = try await call(server, acme2, "a__echo", ["text": "x"])
        XCTAssertEqual(backend.calls.withLock { $0 }, 1, "same tenant, same role class, same arguments: one backend call")
        _ = try await call(server, globex, "a__echo", ["text": "x"])
        XCTAssertEqual(backend.calls.withLock { $0 }, 2, "another tenant never gets the entry")
        _ = try await call(server, acme, "a__echo", ["text": "y"])
        XCTAssertEqual(backend.calls.withLock { $0 }, 3)
        _ = try await call(server, acme, "a__fail")
        _ = try await call(server, acme, "a__fail")
        XCTAssertEqual(backend.calls.withLock { $0 }, 5, "tools not listed for the cache always run")
    }

    func testBreakerOpensOnFailuresAndRefusesWithoutCallingTheBackend() async throws {
        var r = BackendResilience()
        r.breaker.consecutiveFailures = 2
        r.breaker.openBase = .seconds(30)
        let (server, backend) = try server(resilience: r)
        let p = Principal(id: "u", tenant: "t")
        // A business error (not found) says nothing about the backend's health.
        for _ in 0..<3 {
            let r = try await call(server, p, "a__fail")
            XCTAssertEqual(code(r), "not_found")
        }
        XCTAssertEqual(server.breakerStates["a"], "closed")
        for _ in 0..<2 {
            let r = try await call(server, p, "a__crash")
            XCTAssertEqual(code(r), "internal")
        }
        XCTAssertEqual(server.breakerStates["a"], "open")
        let before = backend.calls.withLock { $0 }
        let refused = try await call(server, p, "a__echo", ["text": "x"])
        XCTAssertEqual(code(refused), "backend_unavailable")
        XCTAssertNotNil(refused["_meta"]?["mcp-broker/error"]?["retryAfterSeconds"])
        XCTAssertEqual(backend.calls.withLock { $0 }, before)
    }

    func testTenantLimitRefusesWithARetryHint() async throws {
        var limits = ServerLimits()
        limits.tenantRate = RateLimit(ratePerSecond: 1, burst: 2)
        let (server, backend) = try server(limits: limits, resilience: BackendResilience())
        let p = Principal(id: "u", tenant: "t")
        for _ in 0..<2 {
            let r = try await call(server, p, "a__echo", ["text": "x"])
            XCTAssertNil(code(r))
        }
        let limited = try await call(server, p, "a__echo", ["text": "x"])
        XCTAssertEqual(code(limited), "rate_limited")
        XCTAssertEqual(limited["_meta"]?["mcp-broker/error"]?["retriable"], true)
        XCTAssertEqual(backend.calls.withLock { $0 }, 2)
        let other = try await call(server, Principal(id: "u", tenant: "other"), "a__echo", ["text": "x"])
        XCTAssertNil(code(other))
    }
}
