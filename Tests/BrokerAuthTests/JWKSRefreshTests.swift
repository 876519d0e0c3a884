// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import XCTest

@testable import BrokerAuth

/// Key rotation through the JWKS file, and the single-flight, rate-limited refresh on unknown `kid`.
final class JWKSRefreshTests: XCTestCase {
    private var fixture: AuthFixture!
    private var idp: TestIssuer!

    override func setUp() async throws {
        fixture = try AuthFixture()
        idp = try await TestIssuer.make()
        try await idp.addRSA(kid: "rsa-2")
        try fixture.writeJWKS(idp.jwks(["rsa-1", "ec-1", "ed-1"]))
    }

    private func authenticator() async throws -> BrokerAuthenticator {
        try await BrokerAuthenticator(settings: fixture.settings { $0.refreshMinIntervalSeconds = 1 }, logger: AuthFixture.logger)
    }

    /// Past the refresh interval that the initial load started.
    private func waitOutInterval() async throws { try await Task.sleep(for: .milliseconds(1100)) }

    func testRotatedKeyAcceptedAfterFileRewrite() async throws {
        let auth = try await authenticator()
        let token = try await idp.token(kid: "rsa-2")
        try await waitOutInterval()
        try fixture.writeJWKS(idp.jwks(["rsa-2", "ec-1"]))
        let accepted = XCTAssertAccepted(await auth.authenticate(authorization: "Bearer \(token)"))
        XCTAssertEqual(accepted?.tenant, "acme")
        XCTAssertEqual(auth.jwksRefreshCount, 1)
        // The rotated-out key is gone with the refresh.
        XCTAssertRefused(await auth.authenticate(authorization: "Bearer \(try await idp.token(kid: "rsa-1"))"), "unknown signing key")
    }

    func testRefreshIsRateLimited() async throws {
        let auth = try await authenticator()
        let token = try await idp.token(kid: "rsa-2")
        try await waitOutInterval()
        XCTAssertRefused(await auth.authenticate(authorization: "Bearer \(token)"), "unknown signing key")
        XCTAssertEqual(auth.jwksRefreshCount, 1)

        // The key appears at once, but the last refresh is under a second old: not re-read yet.
        try fixture.writeJWKS(idp.jwks())
        XCTAssertRefused(await auth.authenticate(authorization: "Bearer \(token)"), "unknown signing key")
        XCTAssertEqual(auth.jwksRefreshCount, 1)

        try await waitOutInterval()
        XCTAssertAccepted(await auth.authenticate(authorization: "Bearer \(token)"))
        XCTAssertEqual(auth.jwksRefreshCount, 2)
    }

    func testConcurrentUnknownKidsShareOneRefresh() async throws {
        let auth = try await authenticator()
        let token = try await idp.token(kid: "rsa-2")
        try await waitOutInterval()
        try fixture.writeJWKS(idp.jwks())
        let accepted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    if case .success = await auth.authenticate(authorization: "Bearer \(token)") { return true }
                    return false
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        // Every caller waited for the one refresh instead of being turned away by the rate limit.
        XCTAssertEqual(accepted, 16)
        XCTAssertEqual(auth.jwksRefreshCount, 1)
    }

    func testFailedRefreshKeepsPreviousKeys() async throws {
        let auth = try await authenticator()
        try await waitOutInterval()
        try fixture.writeJWKS("{ not json")
        XCTAssertRefused(await auth.authenticate(authorization: "Bearer \(try await idp.token(kid: "rsa-2"))"), "unknown signing key")
        XCTAssertEqual(auth.jwksRefreshCount, 1)
        XCTAssertAccepted(await auth.authenticate(authorization: "Bearer \(try await idp.token(kid: "rsa-1"))"))
    }

    func testUnloadableJWKSAtStartIsAnError() async throws {
        try fixture.writeJWKS(#"{"keys": [{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}]}"#)
        do {
            _ = try await authenticator()
            XCTFail("an authenticator without usable keys must not start")
        } catch {
            XCTAssertTrue("\(error)".contains("no usable signing key"), "\(error)")
            XCTAssertTrue("\(error)".contains(fixture.jwksPath), "\(error)")
        }
        try FileManager.default.removeItem(atPath: fixture.jwksPath)
        do {
            _ = try await authenticator()
            XCTFail("a missing JWKS file must fail the start")
        } catch {
            XCTAssertTrue("\(error)".contains("cannot open"), "\(error)")
        }
    }

    func testUnusableKeysAreSkippedNotFatal() async throws {
        var text = idp.jwks(["rsa-1"])
        let rsa = try XCTUnwrap(text.range(of: #"{"keys":["#))
        // An HMAC key and an encryption key before the good one.
        let junk = #"{"kty":"oct","kid":"h","k":"c2VjcmV0"},{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"},"#
        text.insert(contentsOf: junk, at: rsa.upperBound)
        try fixture.writeJWKS(text)
        let auth = try await authenticator()
        XCTAssertAccepted(await auth.authenticate(authorization: "Bearer \(try await idp.token(kid: "rsa-1"))"))
    }
}
