// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
import XCTest

/// One caller cannot hurt the daemon or another tenant, at the core: conversions that never trap, caller faults that
/// never open a breaker, bulkheads and rate shares that always leave room for other tenants, resource reads under the
/// same limits as tool calls, hidden confirm tools framed like unknown ones, and an audit that never fails silently.
final class HostileTenantCoreTests: XCTestCase {
    let acme = Principal(id: "u1", tenant: "acme"), globex = Principal(id: "u2", tenant: "globex")

    func server(limits: ServerLimits = ServerLimits(), resilience: BackendResilience) throws -> (MCPServer, TestBackend) {
        try makeGuardedServer(limits: limits, resilience: resilience, label: "hostile-test")
    }

    static func dispatch(_ server: MCPServer, _ p: Principal, _ method: String, _ params: [String: JSONValue]) async -> Result<JSONValue, RPCError> {
        let s = Session(id: nil, ownerID: p.bindingKey)
        _ = await server.dispatch(RPCRequest(id: .int(0), method: "initialize", params: ["protocolVersion": "2025-11-25"]), session: s, principal: p, notify: nil)
        return await server.dispatch(RPCRequest(id: .int(1), method: method, params: params), session: s, principal: p, notify: nil)
    }

    static func call(_ server: MCPServer, _ p: Principal, _ tool: String, _ args: JSONValue = [:]) async throws -> JSONValue {
        try await dispatch(server, p, "tools/call", ["name": .string(tool), "arguments": args]).get()
    }

    func dispatch(_ server: MCPServer, _ p: Principal, _ method: String, _ params: [String: JSONValue]) async -> Result<JSONValue, RPCError> {
        await Self.dispatch(server, p, method, params)
    }

    func call(_ server: MCPServer, _ p: Principal, _ tool: String, _ args: JSONValue = [:]) async throws -> JSONValue {
        try await Self.call(server, p, tool, args)
    }

    func code(_ r: JSONValue) -> String? { r["_meta"]?["mcp-broker/error"]?["code"]?.stringValue }

    /// `calls` concurrent slow calls of `p`, each holding a permit for 400 ms.
    static func flood(_ server: MCPServer, _ p: Principal, calls: Int) -> Task<Void, Never> {
        Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<calls {
                    group.addTask { _ = try? await call(server, p, "a__slow", ["steps": 1, "delay_ms": 400]) }
                }
            }
        }
    }

    // MARK: No trap from outside numbers

    func testCheckedConversionsRefuseWhatInt64CannotHold() {
        for bad in [Double.nan, .infinity, -.infinity, 1e19, -1e19, 9_223_372_036_854_775_808.0, 1.7976931348623157e308] {
            XCTAssertNil(Int64(roundingChecked: bad), "\(bad)")
        }
        XCTAssertEqual(Int64(roundingChecked: -9_223_372_036_854_775_808.0), Int64.min)
        XCTAssertEqual(Int64(roundingChecked: -0.0), 0)
        XCTAssertEqual(Int64(roundingChecked: 2.5), 3)
        XCTAssertEqual(Int64(centsOf: 12.345), 1235)
        XCTAssertNil(Int64(centsOf: 1e17), "1e17 × 100 is beyond Int64: refused, not trapped")
        XCTAssertEqual(5.0.plainText, "5")
        XCTAssertEqual(3.5.plainText, "3.5")
        XCTAssertEqual(1e300.plainText, "1e+300")
    }

    // MARK: Caller faults and the breaker

    func testCallerFaultsNeverOpenTheBreakerButOutagesDo() async throws {
        var r = BackendResilience()
        r.breaker.consecutiveFailures = 2
        r.breaker.openBase = .seconds(30)
        let (server, _) = try server(resilience: r)
        for _ in 0..<6 {
            let result = try await call(server, acme, "a__fail", ["kind": "caller"])
            XCTAssertEqual(code(result), "timeout", "the caller still gets its own timeout")
        }
        XCTAssertEqual(server.breakerStates["a"], "closed", "a tenant's own slow query says nothing about the backend")
        let other = try await call(server, globex, "a__echo", ["text": "hi"])
        XCTAssertNil(code(other))
        for _ in 0..<2 { _ = try await call(server, acme, "a__fail", ["kind": "outage"]) }
        XCTAssertEqual(server.breakerStates["a"], "open", "a real outage still opens it")
    }

    // MARK: Fair bulkheads and rate shares

    func testBulkheadStateKeepsPermitsForOtherTenants() {
        var s = BulkheadState<String>(maxConcurrent: 4, maxQueue: 4, maxPerTenant: 3, maxQueuePerTenant: 3)
        for _ in 0..<3 { XCTAssertTrue(s.tryAcquire(tenant: "acme")) }
        XCTAssertFalse(s.tryAcquire(tenant: "acme"), "acme is at its share although a permit is free")
        for i in 0..<3 { XCTAssertEqual(s.acquire(id: UInt64(i), tenant: "acme", waiter: "a\(i)"), .queued) }
        XCTAssertEqual(s.acquire(id: 9, tenant: "acme", waiter: "a9"), .full(running: 3, waiting: 3), "acme's part of the queue is full")
        XCTAssertTrue(s.tryAcquire(tenant: "globex"), "the permit acme may not take is globex's")
        XCTAssertEqual(s.acquire(id: 10, tenant: "globex", waiter: "g1"), .queued, "and the queue still has room for globex")
        XCTAssertEqual(s.release(tenant: "acme"), "a0", "acme queued first: its turn")
        XCTAssertEqual(s.release(tenant: "acme"), "g1", "then globex's, ahead of acme's longer line")
        XCTAssertEqual(s.release(tenant: "globex"), "a1")
        XCTAssertEqual(s.running(of: "acme"), 3)
        XCTAssertEqual(s.running(of: "globex"), 1)
        XCTAssertEqual(s.remove(id: 2), "a2")
        XCTAssertNil(s.remove(id: 2))
        XCTAssertEqual(s.waiting, 0)
    }

    func testOneTenantFloodingABackendLeavesTheOtherTenantsCallsRunning() async throws {
        var r = BackendResilience()
        r.maxConcurrent = 4
        r.maxQueue = 4
        r.tenantShare = 0.75  // acme may hold 3 permits and 3 queue places
        let (server, _) = try server(resilience: r)
        let flood = Self.flood(server, acme, calls: 10)
        // Let acme's flood take its permits and queue places first.
        try await Task.sleep(for: .milliseconds(100))
        let other = try await call(server, globex, "a__echo", ["text": "hi"])
        XCTAssertNil(code(other), "globex's call ran on the permit acme may not take: \(other)")
        XCTAssertEqual(other["structuredContent"]?["text"]?.stringValue, "hi")
        _ = await flood.value
    }

    func testOneTenantCannotUseTheWholeRateShareOfABackend() async throws {
        var r = BackendResilience()
        r.capacity = RateLimit(ratePerSecond: 0.1, burst: 4)
        r.tenantShare = 0.5  // acme may send 2 of the 4 burst calls
        let (server, _) = try server(resilience: r)
        var codes: [String?] = []
        for _ in 0..<4 { codes.append(code(try await call(server, acme, "a__echo", ["text": "x"]))) }
        XCTAssertEqual(codes, [nil, nil, "rate_limited", "rate_limited"])
        let other = try await call(server, globex, "a__echo", ["text": "y"])
        XCTAssertNil(code(other), "globex still has its part of the capacity")
    }

    // MARK: resources/read under the same limits

    func testResourceReadsCountAgainstTheTenantsLimits() async throws {
        var limits = ServerLimits()
        limits.tenantRate = RateLimit(ratePerSecond: 0.1, burst: 1)
        let (server, _) = try server(limits: limits, resilience: BackendResilience())
        let uri = JSONValue.string(ResourceURI.make(backend: "a", path: "ref/codes"))
        let first = await dispatch(server, acme, "resources/read", ["uri": uri])
        XCTAssertNotNil(try? first.get()["contents"])
        let second = await dispatch(server, acme, "resources/read", ["uri": uri])
        guard case .failure(let error) = second else { return XCTFail("a read over the tenant's rate must be refused: \(second)") }
        XCTAssertTrue(error.message.contains("faster than its limit"), error.message)
        let other = await dispatch(server, globex, "resources/read", ["uri": uri])
        XCTAssertNotNil(try? other.get()["contents"], "another tenant's budget is its own")
    }

    func testResourceReadsAreRefusedByAnOpenBreaker() async throws {
        var r = BackendResilience()
        r.breaker.consecutiveFailures = 1
        r.breaker.openBase = .seconds(30)
        let (server, _) = try server(resilience: r)
        _ = try await call(server, acme, "a__fail", ["kind": "outage"])
        XCTAssertEqual(server.breakerStates["a"], "open")
        let read = await dispatch(server, acme, "resources/read", ["uri": .string(ResourceURI.make(backend: "a", path: "ref/codes"))])
        guard case .failure(let error) = read else { return XCTFail("an open breaker must refuse reads too") }
        XCTAssertTrue(error.message.contains("paused"), error.message)
    }

    // MARK: Hidden confirm tools

    func testAHiddenConfirmToolIsFramedLikeAnUnknownTool() throws {
        var settings = try BrokerConfiguration.parse(yaml: PolicyTests.yaml).server
        let catalog = try Catalog(backends: [TestBackend(name: "a"), TestBackend(name: "b")], separator: "__")
        try settings.policy.validate(against: catalog, file: "p.yaml")
        settings.pageSize = 100
        let server = MCPServer(catalog: catalog, settings: settings, logger: Logger(label: "t"))
        let request = RPCRequest(id: .int(1), method: "tools/call", params: ["name": "b__fail", "arguments": [:]])
        let session = Session(id: nil, ownerID: "x")
        let manager = Principal(id: "m", tenant: "acme", roles: ["manager", "hr"]), outsider = Principal(id: "o", tenant: "acme", roles: ["nobody"])
        XCTAssertTrue(server.needsStream(request, session: session, principal: manager), "confirmation needs the stream")
        XCTAssertFalse(server.needsStream(request, session: session, principal: outsider), "hidden: answered as plain JSON, like an unknown tool")
        let unknown = RPCRequest(id: .int(2), method: "tools/call", params: ["name": "b__nope", "arguments": [:]])
        XCTAssertEqual(server.needsStream(unknown, session: session, principal: outsider), server.needsStream(request, session: session, principal: outsider))
    }

    // MARK: Audit never fails silently

    func testAnUnreadableHashKeyIsRefusedAtLoad() throws {
        let name = "MCPB_TEST_MISSING_AUDIT_KEY_\(UInt32.random(in: 0...UInt32.max))"
        let settings = AuditSettings(path: NSTemporaryDirectory() + "audit-\(UUID().uuidString).jsonl", hashKey: try XCTUnwrap(SecretReference(parsing: "env:" + name)))
        XCTAssertThrowsError(try AuditLog(settings: settings)) { error in
            XCTAssertTrue(String(describing: error).contains("hash_key"), "\(error)")
        }
    }

    func testARotatedAwayHashKeyGivesNoPlainDigest() throws {
        let name = "MCPB_TEST_AUDIT_KEY_\(UInt32.random(in: 0...UInt32.max))"
        setenv(name, "k3y-for-the-test", 1)
        let path = NSTemporaryDirectory() + "audit-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let audit = try AuditLog(settings: AuditSettings(path: path, hashKey: try XCTUnwrap(SecretReference(parsing: "env:" + name))))
        let keyed = audit.digest(["employee_id": "21000042"])
        XCTAssertEqual(keyed.count, 64)
        unsetenv(name)
        XCTAssertEqual(audit.digest(["employee_id": "21000042"]), AuditLog.digestUnavailable, "never the brute-forceable plain SHA-256")
    }

    func testWriteFailuresAreCountedAndReported() throws {
        // /dev/full accepts the open and fails every write with ENOSPC: a full disk, reproducibly.
        guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full") }
        let audit = try AuditLog(settings: AuditSettings(path: "/dev/full"))
        let record = AuditRecord(
            correlationID: "c", principal: acme, method: "tools/call", target: "a__echo", backend: "a", argumentsDigest: nil, decision: "allowed",
            rule: "r", outcome: "ok", durationMilliseconds: 1)
        audit.record(record)
        audit.record(record)
        audit.flush()
        XCTAssertEqual(audit.writeFailures, 2)
        XCTAssertTrue(audit.isFailing)
        var readiness = Readiness(backends: [("a", .ok)])
        readiness.auditFailing = audit.isFailing
        XCTAssertEqual(readiness.status, "degraded")
        XCTAssertNotNil(readiness.json["audit"])
    }
}
