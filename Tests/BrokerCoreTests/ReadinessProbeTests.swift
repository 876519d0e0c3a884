// SPDX-License-Identifier: Apache-2.0

@testable import BrokerCore
import Logging
import MCPCore
import Synchronization
import XCTest

/// `/readyz` is unauthenticated: a flood of probes must become at most one backend check at a time, reused while fresh.
final class ReadinessProbeTests: XCTestCase {
    func testAProbeFloodRunsOneCheck() async {
        let probe = ReadinessProbe(freshFor: .seconds(30), logger: Logger(label: "probe-test"))
        let checks = Atomic<Int>(0)
        let check: @Sendable () async -> Readiness = {
            checks.add(1, ordering: .relaxed)
            try? await Task.sleep(for: .milliseconds(50))
            return Readiness(backends: [("warehouse", HealthReport(healthy: false, reason: "password env:WH_ACME_PASSWORD rejected"))])
        }
        let statuses = await withTaskGroup(of: String.self) { group in
            for _ in 0..<300 { group.addTask { await probe.current(check: check).status } }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        XCTAssertEqual(statuses.count, 300)
        XCTAssertEqual(Set(statuses), ["unavailable"])
        XCTAssertEqual(checks.load(ordering: .relaxed), 1, "300 concurrent probes, one backend check")
        _ = await probe.current(check: check)
        XCTAssertEqual(checks.load(ordering: .relaxed), 1, "fresh: answered from the last check")
    }

    func testAStaleAnswerIsCheckedAgain() async throws {
        let probe = ReadinessProbe(freshFor: .milliseconds(20), logger: Logger(label: "probe-test"))
        let checks = Atomic<Int>(0)
        let check: @Sendable () async -> Readiness = {
            checks.add(1, ordering: .relaxed)
            return Readiness(backends: [("erp", .ok)])
        }
        _ = await probe.current(check: check)
        try await Task.sleep(for: .milliseconds(40))
        _ = await probe.current(check: check)
        XCTAssertEqual(checks.load(ordering: .relaxed), 2)
    }

    func testTheBodyNamesNoReason() {
        let r = Readiness(backends: [("warehouse", HealthReport(healthy: false, reason: "password env:WH_ACME_PASSWORD rejected")), ("erp", .ok)])
        let body = r.json.jsonText
        XCTAssertFalse(body.contains("WH_ACME_PASSWORD"), body)
        XCTAssertFalse(body.contains("env:"), body)
        XCTAssertEqual(r.json["backends"]?["warehouse"]?["status"]?.stringValue, "down")
        XCTAssertEqual(r.status, "degraded")
    }
}
