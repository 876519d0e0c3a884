// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import XCTest

@testable import BrokerAuth

/// The JWKS fetched over HTTP from a local `python3 -m http.server`.
final class JWKSURLTests: XCTestCase {
    private var fixture: AuthFixture!
    private var server: Process?
    private var port = 0

    override func setUp() async throws {
        fixture = try AuthFixture()
        let log = fixture.dir.appendingPathComponent("server.log")
        XCTAssertTrue(FileManager.default.createFile(atPath: log.path, contents: nil))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // Port 0: the kernel picks a free port, and the server prints it; no race with another test run.
        p.arguments = ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", fixture.dir.path]
        let logHandle = try FileHandle(forWritingTo: log)
        p.standardOutput = logHandle
        p.standardError = logHandle
        try p.run()
        server = p
        port = try await waitForPort(log: log)
        try await waitUntilAnswering()
    }

    override func tearDown() async throws {
        // SIGKILL, not terminate(): the child inherits the test runner's signal mask, in which SIGTERM is blocked.
        if let server, server.isRunning {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        server = nil
    }

    private func waitForPort(log: URL) async throws -> Int {
        for _ in 0..<200 {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let r = text.range(of: #"port (\d+)"#, options: .regularExpression),
                let n = Int(text[r].dropFirst(5))
            {
                return n
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw XCTSkip("python3 http.server did not start")
    }

    private func waitUntilAnswering() async throws {
        try fixture.writeJWKS("{}")
        let probe = try XCTUnwrap(URL(string: "http://127.0.0.1:\(port)/jwks.json"))
        for _ in 0..<100 {
            if (try? await JWKSDownload.fetch(probe, maxBytes: 1024, timeout: 1)) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTFail("http.server on port \(port) does not answer")
    }

    private func settings(path: String) -> AuthSettings {
        fixture.settings {
            $0.jwksFile = nil
            $0.jwksURL = "http://127.0.0.1:\(port)/\(path)"
        }
    }

    func testTokenVerifiesAgainstJWKSFromURL() async throws {
        let idp = try await TestIssuer.make()
        try fixture.writeJWKS(idp.jwks())
        let auth = try await BrokerAuthenticator(settings: settings(path: "jwks.json"), logger: AuthFixture.logger)
        for kid in ["rsa-1", "ec-1", "ed-1"] {
            let p = XCTAssertAccepted(await auth.authenticate(authorization: "Bearer \(try await idp.token(kid: kid))"))
            XCTAssertEqual(p?.id, "alice", kid)
        }
    }

    func testNon200AtStartIsAnError() async throws {
        do {
            _ = try await BrokerAuthenticator(settings: settings(path: "missing.json"), logger: AuthFixture.logger)
            XCTFail("a JWKS URL answering 404 must fail the start")
        } catch {
            XCTAssertTrue("\(error)".contains("HTTP 404"), "\(error)")
        }
    }

    func testResponseOverCapRefused() async throws {
        try Data(repeating: 0x20, count: 4096).write(to: fixture.dir.appendingPathComponent("big.json"))
        let url = try XCTUnwrap(URL(string: "http://127.0.0.1:\(port)/big.json"))
        do {
            _ = try await JWKSDownload.fetch(url, maxBytes: 1024, timeout: 5)
            XCTFail("a response over the cap must be refused")
        } catch {
            XCTAssertTrue(error.reason.contains("larger than 1024 bytes"), error.reason)
        }
    }

    func testRedirectNotFollowed() async throws {
        // http.server answers 301 for a directory without its trailing slash; following it would yield a 200 listing.
        try FileManager.default.createDirectory(at: fixture.dir.appendingPathComponent("keys"), withIntermediateDirectories: true)
        let url = try XCTUnwrap(URL(string: "http://127.0.0.1:\(port)/keys"))
        do {
            _ = try await JWKSDownload.fetch(url, maxBytes: 1 << 20, timeout: 5)
            XCTFail("a redirect must not be followed")
        } catch {
            XCTAssertTrue(error.reason.contains("HTTP 301"), error.reason)
        }
    }
}
