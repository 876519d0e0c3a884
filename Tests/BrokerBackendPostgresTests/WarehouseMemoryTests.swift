// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import XCTest

@testable import BrokerBackendPostgres

/// The byte cap holds on the server side: a value or row that does not fit never reaches the broker's memory,
/// pages stop before the row that does not fit, and a cursor always makes progress. Real warehouse, real plugin.
final class WarehouseMemoryTests: XCTestCase {
    let support = PGBackendHarness()

    /// The bound this test holds the broker to: the 1 MiB cap plus slack for libpq buffers, the answer's JSON
    /// and text, and allocator noise; far below the ~800 MB one unbounded call used to take.
    static let maxGrowth = 64 << 20

    func testAHugeErrorReplyDoesNotStayInThePool() async throws {
        // PostgreSQL quotes the whole value in this error: libpq must buffer the 30 MB reply (nothing on the client
        // can stop that), but the connection that read it is closed afterwards, so its grown input buffer is not kept
        // in the pool for the next caller. A small error keeps its connection.
        let b = try support.backend()
        let pool = try XCTUnwrap((b as? PostgresBackend)?.pools["acme"])
        _ = try await support.call(b, "run_sql", ["sql": "SELECT 1 AS one"])
        XCTAssertEqual(pool.statistics().idle, 1)
        let small = await support.brokerError(b, "run_sql", ["sql": "SELECT 'x'::int AS n"])
        XCTAssertEqual(small?.code, .invalidArguments)
        XCTAssertEqual(pool.statistics().idle, 1, "an ordinary error reply keeps the connection")
        let error = await support.brokerError(b, "run_sql", ["sql": "SELECT repeat('7', 30000000)::int AS n"])
        XCTAssertEqual(error?.code, .invalidArguments)
        XCTAssertEqual(error?.isCallerFault, true)
        XCTAssertLessThan(error?.message.utf8.count ?? .max, 2048, "the message carries a bounded prefix: \(error?.message.prefix(200) ?? "")")
        XCTAssertEqual(pool.statistics().idle, 0, "the connection holding a 30 MB input buffer was closed, not pooled")
        _ = try await support.call(b, "run_sql", ["sql": "SELECT 1 AS one"])
        XCTAssertEqual(pool.statistics().idle, 1)
    }

    func testA100MBValueIsRefusedWithoutEverBeingBuffered() async throws {
        let b = try support.backend()
        let sql: JSONValue = "SELECT repeat('x', 100000000) AS big"
        // Warm up: pools, the relation cache and the allocator's arenas exist before measuring.
        _ = try await support.call(b, "run_sql", ["sql": "SELECT 1 AS one"])
        let baseline = try Self.resetPeak()

        let one = await support.brokerError(b, "run_sql", ["sql": sql])
        XCTAssertEqual(one?.code, .invalidArguments)
        XCTAssertEqual(
            one?.message,
            "Column big of row 1 is 100,000,000 bytes, over the 1,048,576-byte answer limit; select left(big, 1000) or octet_length(big) instead.")
        XCTAssertEqual(one?.isCallerFault, true)
        let afterOne = try Self.memory().peak

        let support = self.support
        let four = await withTaskGroup(of: BrokerError?.self) { group in
            for _ in 0..<4 { group.addTask { await support.brokerError(b, "run_sql", ["sql": sql]) } }
            var out: [BrokerError?] = []
            for await e in group { out.append(e) }
            return out
        }
        XCTAssertEqual(four.compactMap { $0?.code }, Array(repeating: .invalidArguments, count: 4))
        let afterFour = try Self.memory().peak
        let grewOne = afterOne - baseline
        let grewFour = afterFour - baseline
        print("warehouse RSS: baseline \(baseline >> 10) KiB; peak growth \(grewOne >> 10) KiB after one 100 MB call, \(grewFour >> 10) KiB after four in parallel")
        XCTAssertLessThan(grewOne, Self.maxGrowth, "one 100 MB value must not be buffered")
        XCTAssertLessThan(grewFour, Self.maxGrowth, "four in parallel must not be buffered either")

        // The measurement can see buffering: the driver alone, without the rewrite, holds a 20 MB value whole
        // (libpq reads the full row before its byte cap can look at it).
        let before = try Self.resetPeak()
        let conn = try await PGTestSupport.connectAcme()
        let raw = try await conn.query("SELECT repeat('x', 20000000) AS big", parameters: [], rowLimit: 10, byteLimit: 1 << 20)
        conn.close()
        XCTAssertEqual(raw.rows.count, 0)
        XCTAssertTrue(raw.truncated)
        let rawGrowth = try Self.memory().peak - before
        print("warehouse RSS: unbounded driver read of a 20 MB value grew the peak by \(rawGrowth >> 10) KiB")
        XCTAssertGreaterThan(rawGrowth, 20_000_000, "the peak measurement detects a buffered value")
    }

    func testPagesStopBeforeTheRowThatDoesNotFitAndTheCursorResumesThere() async throws {
        let b = try support.backend()
        // 300,000-byte rows (plus an integer): three fit in 1 MiB, the fourth does not.
        let first = try await support.call(b, "run_sql", ["sql": "SELECT g, repeat('x', 300000) AS s FROM generate_series(1, 8) g ORDER BY g"])
        XCTAssertEqual(Self.firsts(first), [1, 2, 3])
        XCTAssertEqual(first["truncated"], true)
        XCTAssertEqual(first["notice"]?.stringValue?.hasPrefix("Truncated at the 1,048,576-byte cap: rows 1-3 shown."), true, "\(first["notice"] ?? .null)")
        XCTAssertEqual(first["rows"]?.arrayValue?.first?.arrayValue?[1].stringValue?.utf8.count, 300_000, "kept rows are whole")
        guard let c1 = first["next_cursor"]?.stringValue else { return XCTFail("no cursor") }
        let second = try await support.call(b, "run_sql", ["cursor": .string(c1)])
        XCTAssertEqual(Self.firsts(second), [4, 5, 6], "the next page starts at the row that did not fit")
        guard let c2 = second["next_cursor"]?.stringValue else { return XCTFail("no second cursor") }
        let third = try await support.call(b, "run_sql", ["cursor": .string(c2)])
        XCTAssertEqual(Self.firsts(third), [7, 8])
        XCTAssertEqual(third["truncated"], false)
        XCTAssertEqual(third["next_cursor"], .null)
    }

    func testAnOversizeRowOnALaterPageIsRefusedNotAnsweredWithAnEmptyPage() async throws {
        let b = try support.backend()
        let sql: JSONValue = "SELECT g, CASE WHEN g = 3 THEN repeat('y', 2000000) ELSE 'small' END AS note FROM generate_series(1, 5) g ORDER BY g"
        let first = try await support.call(b, "run_sql", ["sql": sql])
        XCTAssertEqual(Self.firsts(first), [1, 2], "the page stops before the row that can never fit")
        guard let cursor = first["next_cursor"]?.stringValue else { return XCTFail("no cursor") }
        let e = await support.brokerError(b, "run_sql", ["cursor": .string(cursor)])
        XCTAssertEqual(
            e?.message,
            "Column note of row 3 is 2,000,000 bytes, over the 1,048,576-byte answer limit; select left(note, 1000) or octet_length(note) instead.")
        XCTAssertEqual(e?.isCallerFault, true)
    }

    func testARowOverTheCapInTotalNamesItsLargestColumn() async throws {
        let b = try support.backend()
        let e = await support.brokerError(b, "run_sql", ["sql": "SELECT repeat('a', 500000) AS a, repeat('b', 700000) AS b, '\\x00000000000000000000'::bytea AS raw"])
        XCTAssertEqual(
            e?.message,
            "Row 1 is 1,200,022 bytes (largest column b: 700,000 bytes), over the 1,048,576-byte answer limit; select fewer columns, "
                + "or select left(b, 1000) or octet_length(b) instead.")
        // Non-text types are measured by their text form: a 600,000-element array does not slip through.
        let array = await support.brokerError(b, "run_sql", ["sql": "SELECT array_agg(g) AS ids FROM generate_series(1, 600000) g"])
        XCTAssertEqual(array?.message.hasPrefix("Column ids of row 1 is "), true, array?.message ?? "")
        let json = await support.brokerError(b, "run_sql", ["sql": "SELECT jsonb_build_object('k', repeat('z', 1100000)) AS doc"])
        XCTAssertEqual(json?.message.hasPrefix("Column doc of row 1 is 1,100,009 bytes"), true, json?.message ?? "")
    }

    func testNamedQueriesAreBoundedToo() async throws {
        let b = try support.backend()
        let small = try await support.call(b, "padded", ["n": 10])
        XCTAssertEqual(small["rows"]?.arrayValue?.first?.arrayValue?.first, "xxxxxxxxxx")
        XCTAssertEqual(small["columns"]?.arrayValue?.first?["name"], "pad", "the caller sees the query's own column names")
        let big = await support.brokerError(b, "padded", ["n": 5_000_000])
        XCTAssertEqual(
            big?.message,
            "Column pad of row 1 is 5,000,000 bytes, over the 1,048,576-byte answer limit; select left(pad, 1000) or octet_length(pad) instead.")
        let again = try await support.call(b, "padded", ["n": 3])
        XCTAssertEqual(again["rows"]?.arrayValue?.first?.arrayValue?.first, "xxx", "the cached Describe is reused")
    }

    static func firsts(_ result: JSONValue) -> [Int64] {
        result["rows"]?.arrayValue?.compactMap { $0.arrayValue?.first?.intValue } ?? []
    }

    /// Resets the kernel's peak-RSS mark (`5` → /proc/self/clear_refs) and returns the current RSS in bytes.
    static func resetPeak() throws -> Int {
        try Data("5".utf8).write(to: URL(fileURLWithPath: "/proc/self/clear_refs"))
        let now = try memory()
        XCTAssertLessThanOrEqual(now.peak - now.rss, 1 << 20, "the peak mark was reset")
        return now.rss
    }

    /// VmRSS and VmHWM (peak RSS since the last reset) from /proc/self/status, in bytes.
    static func memory() throws -> (rss: Int, peak: Int) {
        let text = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        func field(_ name: String) -> Int {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            let digits = line.filter(\.isNumber)
            return (Int(digits) ?? 0) * 1024
        }
        return (field("VmRSS"), field("VmHWM"))
    }
}
