// SPDX-License-Identifier: Apache-2.0

import Foundation
import XCTest

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Runs the built `crm-demo` executable on 127.0.0.1 with a free port, for tests that need the real CRM peer.
///
/// Credentials are fixed test values (never real secrets). Stop it with ``stop()`` (SIGTERM) in `tearDown`.
final class CRMDemoServer: @unchecked Sendable {
    /// The credentials the server is started with.
    static let environment: [String: String] = [
        "CRM_BEARER_TOKEN": "test-static-bearer", "CRM_BASIC_USER": "crm-user", "CRM_BASIC_PASSWORD": "crm-pass",
        "CRM_API_KEY": "test-api-key", "CRM_CLIENT_ID": "crm-client", "CRM_CLIENT_SECRET": "crm-client-secret",
    ]

    /// `http://127.0.0.1:<port>`.
    let baseURL: URL
    private let process: Process
    private let directory: URL

    /// The `crm-demo` binary next to the test bundle (both live in the build's `debug` folder).
    static func executable() throws -> URL {
        var dirs = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        dirs.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            dirs.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        for dir in dirs {
            let candidate = dir.appendingPathComponent("crm-demo")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw CRMDemoTestError.startFailed("crm-demo not found in \(dirs.map(\.path))")
    }

    /// Starts the server and waits (at most 20 s) until it has written its port and `/health` answers.
    init(extraEnvironment: [String: String] = [:]) async throws {
        let binary: URL
        do { binary = try Self.executable() } catch {
            XCTFail("crm-demo not found next to the test bundle (\(Bundle.main.bundleURL.path)); run swift build --build-tests")
            throw error
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("crm-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let portFile = directory.appendingPathComponent("port")
        process = Process()
        process.executableURL = binary
        process.arguments = ["--host", "127.0.0.1", "--port", "0", "--port-file", portFile.path, "--log-level", "warning"]
        // Only the test's own credentials: CRM_* variables exported by scripts/test.sh (the shared demo CRM's) must
        // not leak in, or a control key or client id from there would change this server's behaviour.
        let inherited = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CRM_") }
        process.environment = inherited.merging(Self.environment.merging(extraEnvironment) { $1 }) { $1 }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        var port: Int?
        while port == nil, Date() < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), text.hasSuffix("\n") {
                port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        guard let port, port > 0, let url = URL(string: "http://127.0.0.1:\(port)") else {
            kill(process.processIdentifier, SIGTERM)
            throw CRMDemoTestError.startFailed("no port file within 20 s")
        }
        baseURL = url
        while Date() < deadline {
            if let (status, _, _) = try? await request("GET", "/health"), status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(process.processIdentifier, SIGTERM)
        throw CRMDemoTestError.startFailed("/health did not answer within 20 s")
    }

    /// Sends SIGTERM (no waitUntilExit: it can hang in async tests) and removes the temporary folder.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// One HTTP exchange: status, headers (lower-cased names) and body.
    func request(
        _ method: String, _ pathAndQuery: String, headers: [String: String] = [:], body: Data? = nil, timeout: TimeInterval = 10
    ) async throws -> (Int, [String: String], Data) {
        guard let url = URL(string: baseURL.absoluteString + pathAndQuery) else { throw CRMDemoTestError.badURL(pathAndQuery) }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        let (data, response) = try await CRMDemoServer.session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw CRMDemoTestError.notHTTP }
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return (http.statusCode, fields, data)
    }

    private static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        return URLSession(configuration: configuration)
    }()
}

/// Failures of the CRM test harness.
enum CRMDemoTestError: Error {
    case startFailed(String)
    case badURL(String)
    case notHTTP
    case notJSON(String)
}

/// Parses a JSON body (Foundation is enough here: the tests only read the demo's own output).
func crmJSON(_ data: Data) throws -> Any {
    do { return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
        throw CRMDemoTestError.notJSON(String(decoding: data.prefix(200), as: UTF8.self))
    }
}

/// `Basic base64(user:password)`.
func crmBasic(_ user: String, _ password: String) -> String { "Basic " + Data("\(user):\(password)".utf8).base64EncodedString() }
