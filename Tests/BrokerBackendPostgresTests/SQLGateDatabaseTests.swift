// SPDX-License-Identifier: Apache-2.0

import Foundation
import XCTest

@testable import BrokerBackendPostgres

/// Proves the admitted corpus is valid SQL on the real warehouse: each admitted text runs as `wh_acme` inside
/// `BEGIN READ ONLY` (psql, bounded by a timeout).
final class SQLGateDatabaseTests: XCTestCase {
    func testAdmittedQueriesRunOnTheWarehouseAsTheAnalystRole() throws {
        let env = try Self.credentials()
        let gate = SQLGate()
        var script = "\\set ON_ERROR_STOP on\nBEGIN READ ONLY;\nSET LOCAL statement_timeout = '10s';\n"
        for sql in SQLGateCorpusTests.legitimate {
            let text = try gate.check(sql).get()
            // Newline first: the admitted text may end in a `--` comment.
            script += "\\echo ran\n\(text)\n;\n"
        }
        script += "ROLLBACK;\n"
        let (status, output) = try Self.psql(script: script, env: env, timeout: 15)
        XCTAssertEqual(status, 0, output)
        let ran = output.split(separator: "\n").filter { $0 == "ran" }.count
        XCTAssertEqual(ran, SQLGateCorpusTests.legitimate.count, output)
    }

    /// The password and port come from the environment the test script exports, else from `.run/pg`.
    static func credentials() throws -> [String: String] {
        var values = ProcessInfo.processInfo.environment
        if values["WH_ACME_PASSWORD"] == nil {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            let file = root.appendingPathComponent(".run/pg/credentials.env")
            let text = try String(contentsOf: file, encoding: .utf8)
            for line in text.split(separator: "\n") {
                let trimmed = line.hasPrefix("export ") ? line.dropFirst(7) : line[...]
                guard let eq = trimmed.firstIndex(of: "=") else { continue }
                let value = trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
                values[String(trimmed[..<eq])] = value
            }
        }
        guard let password = values["WH_ACME_PASSWORD"] else { throw MissingCredentials() }
        return [
            "PGPASSWORD": password, "PGHOST": "127.0.0.1", "PGPORT": values["WH_PORT"] ?? "55432",
            "PGUSER": "wh_acme", "PGDATABASE": "warehouse", "PGCONNECT_TIMEOUT": "5", "PATH": "/usr/bin:/bin",
        ]
    }

    /// Runs psql with `script` on stdin; returns its exit status and combined output. Killed after `timeout`.
    static func psql(script: String, env: [String: String], timeout: Double) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = ["-X", "-q", "-A", "-t", "-f", "-"]
        process.environment = env
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        input.fileHandleForWriting.write(Data(script.utf8))
        try input.fileHandleForWriting.close()
        // Read while it runs so a full pipe cannot stall psql; the wait below bounds the whole thing.
        let collected = OutputBox()
        let drained = DispatchSemaphore(value: 0)
        let reader = output.fileHandleForReading
        DispatchQueue.global().async {
            collected.data = reader.readDataToEndOfFile()
            drained.signal()
        }
        if exited.wait(timeout: .now() + timeout) != .success {
            process.terminate()
            return (-1, "psql timed out")
        }
        guard drained.wait(timeout: .now() + 5) == .success else { return (-1, "psql output not drained") }
        return (process.terminationStatus, String(decoding: collected.data, as: UTF8.self))
    }
}

private struct MissingCredentials: Error {}

// Written by the reader before it signals, read after the wait.
private final class OutputBox: @unchecked Sendable {
    var data = Data()
}
