// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import XCTest

@testable import BrokerAuth

/// A temp directory with a JWKS file, and settings pointing at it.
final class AuthFixture {
    let dir: URL
    var jwksPath: String { dir.appendingPathComponent("jwks.json").path }

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("broker-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    func writeJWKS(_ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: jwksPath), options: .atomic)
    }

    /// Settings the default ``TestIssuer/claims(_:)`` satisfy.
    func settings(_ adjust: (inout JWTSettings) -> Void = { _ in }) -> AuthSettings {
        var jwt = JWTSettings(issuer: TestIssuer.issuer, audience: TestIssuer.audience)
        jwt.jwksFile = jwksPath
        jwt.claims.attributes = ["region": "region", "clearance": "clearance", "department": "dept"]
        adjust(&jwt)
        var s = AuthSettings(resource: TestIssuer.audience)
        s.jwt = jwt
        s.authorizationServers = [TestIssuer.issuer]
        s.scopesSupported = ["mcp:tools"]
        s.tenants = ["acme", "globex"]
        return s
    }

    static let logger = Logger(label: "broker-auth-tests")
}

/// Asserts a refusal with the given status and description.
func XCTAssertRefused(
    _ result: Result<Principal, AuthChallenge>, status: Int = 401, error: String? = "invalid_token", _ description: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    switch result {
    case .success(let p): XCTFail("expected refusal '\(description)', got principal \(p)", file: file, line: line)
    case .failure(let c):
        XCTAssertEqual(c.status, status, file: file, line: line)
        XCTAssertEqual(c.error, error, file: file, line: line)
        XCTAssertEqual(c.description, description, file: file, line: line)
    }
}

/// The principal of a success, failing the test otherwise.
@discardableResult
func XCTAssertAccepted(
    _ result: Result<Principal, AuthChallenge>, file: StaticString = #filePath, line: UInt = #line
) -> Principal? {
    switch result {
    case .success(let p): return p
    case .failure(let c):
        XCTFail("expected acceptance, got \(c.status) \(c.error ?? "-"): \(c.description)", file: file, line: line)
        return nil
    }
}
