// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import XCTest

#if canImport(Glibc)
import Glibc
#endif

@testable import BrokerBackendPostgres

/// A micro-measurement, not a test: N named-query calls through the backend against the demo warehouse, and the
/// same statement N times directly over one libpq connection (what pgbench measures), printed side by side.
/// Never asserts on time. Runs only with `PG_MEASURE=1` (it takes a minute); `PG_MEASURE_N` sets N (default 2000).
///
///     PG_MEASURE=1 swift test --filter WarehouseCallMeasurement
final class WarehouseCallMeasurement: XCTestCase {
    static let yaml = """
        connection: { host: 127.0.0.1, port: \(PostgresBackendTests.port), database: warehouse, sslmode: disable, connect_timeout_ms: 2000 }
        tenants:
          acme: { user: wh_acme, password: env:WH_ACME_PASSWORD }
        pool: { min: 1, max: 4, acquire_timeout_ms: 10000 }
        schema: analytics
        queries:
          revenue_by_month:
            description: Revenue per month for a region (the benchmark's query).
            sql: >-
              SELECT month, region, revenue, orders FROM analytics.monthly_revenue
              WHERE tenant = $1 AND region = $2 AND month >= $3::date AND month < $4::date ORDER BY month DESC
            parameters:
              tenant: { bind: tenant }
              region: { type: string, required: true }
              from_date: { type: date, required: true }
              to_date: { type: date, required: true }
          one_region:
            description: One small row (the per-call overhead with almost no server work).
            sql: SELECT region, name FROM analytics.regions WHERE $1 <> '' ORDER BY region LIMIT 1
            parameters: { t: { bind: tenant } }
        """

    static let revenueSQL = """
        SELECT month, region, revenue, orders FROM analytics.monthly_revenue \
        WHERE tenant = $1 AND region = $2 AND month >= $3::date AND month < $4::date ORDER BY month DESC
        """

    func testMeasureNamedQueryCalls() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment["PG_MEASURE"] == "1" else { throw XCTSkip("set PG_MEASURE=1 to run the measurement") }
        let n = Int(environment["PG_MEASURE_N"] ?? "") ?? 2000
        let harness = PGBackendHarness()
        let backend = try harness.backend(Self.yaml)
        let revenueArgs: [String: JSONValue] = ["region": "EMEA", "from_date": "2024-01-01", "to_date": "2025-01-01"]

        // Warm up: pool connections, cached Describe.
        for _ in 0..<20 {
            _ = try await harness.call(backend, "revenue_by_month", revenueArgs)
            _ = try await harness.call(backend, "one_region", [:])
        }
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let revenueParameters: [String?] = ["acme", "EMEA", "2024-01-01", "2025-01-01"]
        let smallSQL = "SELECT region, name FROM analytics.regions WHERE $1 <> '' ORDER BY region LIMIT 1"

        for round in 1...2 {
            let directRevenue = try await Self.time(n) {
                _ = try await connection.query(Self.revenueSQL, parameters: revenueParameters, rowLimit: 51, byteLimit: 1 << 20)
            }
            let brokerRevenue = try await Self.time(n) { _ = try await harness.call(backend, "revenue_by_month", revenueArgs) }
            let directSmall = try await Self.time(n) {
                _ = try await connection.query(smallSQL, parameters: ["acme"], rowLimit: 51, byteLimit: 1 << 20)
            }
            let brokerSmall = try await Self.time(n) { _ = try await harness.call(backend, "one_region", [:]) }
            print(Self.line(round, "revenue_by_month", n, direct: directRevenue, backend: brokerRevenue))
            print(Self.line(round, "one_region", n, direct: directSmall, backend: brokerSmall))
        }
    }

    /// The lever alone: the same ExecutionPlan run sequentially (one round trip per statement, as before) and
    /// pipelined, on one connection, interleaved in blocks of 100 so that load from elsewhere hits both alike.
    func testMeasurePipelinedAgainstSequentialPlans() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment["PG_MEASURE"] == "1" else { throw XCTSkip("set PG_MEASURE=1 to run the measurement") }
        let n = Int(environment["PG_MEASURE_N"] ?? "") ?? 2000
        let connection = try await PGTestSupport.connectAcme()
        defer { connection.close() }
        let cases: [(String, String, [String?])] = [
            ("revenue_by_month", Self.revenueSQL, ["acme", "EMEA", "2024-01-01", "2025-01-01"]),
            ("one_region", "SELECT region, name FROM analytics.regions WHERE $1 <> '' ORDER BY region LIMIT 1", ["acme"]),
        ]
        let serverPID = try await connection.query("SELECT pg_backend_pid()", parameters: [], rowLimit: 1, byteLimit: 64).rows.first?.first ?? nil
        for (name, sql, parameters) in cases {
            let columns = try await Self.plan(sql, parameters, pipelined: true).run(on: connection).columns
            let sequential = Self.plan(sql, parameters, columns: columns, pipelined: false)
            let pipelined = Self.plan(sql, parameters, columns: columns, pipelined: true)
            var wall: (sequential: Duration, pipelined: Duration) = (.zero, .zero)
            // CPU seconds of this process (the broker side) and of the serving PostgreSQL backend, per mode: less
            // noisy than wall time on a shared machine, and what the benchmark's shared core pays.
            var cpu: (sequential: Double, pipelined: Double) = (0, 0)
            var serverCPU: (sequential: Double, pipelined: Double) = (0, 0)
            for _ in 0..<max(1, n / 100) {
                var (own, server) = (Self.ownCPU(), Self.serverCPU(serverPID))
                wall.sequential += try await Self.time(100) { _ = try await sequential.run(on: connection) }
                cpu.sequential += Self.ownCPU() - own
                serverCPU.sequential += Self.serverCPU(serverPID) - server
                (own, server) = (Self.ownCPU(), Self.serverCPU(serverPID))
                wall.pipelined += try await Self.time(100) { _ = try await pipelined.run(on: connection) }
                cpu.pipelined += Self.ownCPU() - own
                serverCPU.pipelined += Self.serverCPU(serverPID) - server
            }
            let count = Double(max(1, n / 100) * 100)
            let us = { (seconds: Double) in Int((seconds / count * 1e6).rounded()) }
            print("PG_MEASURE plan \(name) N=\(Int(count)) wall: sequential \(us(wall.sequential.seconds)) us/call, pipelined \(us(wall.pipelined.seconds)) us/call")
            print("PG_MEASURE plan \(name) N=\(Int(count)) client CPU: sequential \(us(cpu.sequential)) us/call, pipelined \(us(cpu.pipelined)) us/call")
            print("PG_MEASURE plan \(name) N=\(Int(count)) server CPU: sequential \(us(serverCPU.sequential)) us/call, pipelined \(us(serverCPU.pipelined)) us/call")
        }
    }

    /// User + system CPU seconds of this process so far.
    static func ownCPU() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// User + system CPU seconds of a local PostgreSQL backend process (from /proc; 0 when it cannot be read).
    static func serverCPU(_ pid: String?) -> Double {
        guard let pid, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        // Fields after the command name: state is field 3, utime 14, stime 15 (clock ticks, 100 per second on Linux).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / 100
    }

    static func plan(_ sql: String, _ parameters: [String?], columns: [PGColumn]? = nil, pipelined: Bool) -> ExecutionPlan {
        ExecutionPlan(
            sql: sql, parameters: parameters, offset: 0, rowLimit: 51, byteCap: 1 << 20, writes: false, bounded: true,
            knownColumns: columns, searchPath: nil, statementTimeout: .seconds(10), pipelined: pipelined)
    }

    static func time(_ n: Int, _ body: () async throws -> Void) async throws -> Duration {
        let start = ContinuousClock.now
        for _ in 0..<n { try await body() }
        return ContinuousClock.now - start
    }

    static func line(_ round: Int, _ name: String, _ n: Int, direct: Duration, backend: Duration) -> String {
        let d = direct.seconds / Double(n) * 1e6
        let b = backend.seconds / Double(n) * 1e6
        return "PG_MEASURE round \(round) \(name) N=\(n): direct libpq \(Int(d.rounded())) us/call, backend \(Int(b.rounded())) us/call, "
            + "ratio direct/backend \(String(format: "%.3f", d / b))"
    }
}
