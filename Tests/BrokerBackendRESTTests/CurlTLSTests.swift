// SPDX-License-Identifier: Apache-2.0

import Foundation
import XCTest

@testable import BrokerBackendREST

/// Mutual TLS against a Python `ssl` server that requires a client certificate signed by a throwaway CA.
final class CurlTLSTests: XCTestCase {
    private var server: CurlTestServer?
    private var client: CurlClient?
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "curl-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        server = try CurlTestServer(tlsDirectory: directory)
        client = CurlClient(name: "tls-test")
    }

    override func tearDown() {
        client?.shutdown()
        server?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func file(_ name: String) throws -> String {
        try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
    }

    private func tlsRequest() throws -> CurlRequest {
        var request = CurlRequest(method: "GET", url: try XCTUnwrap(server).url("/ok", scheme: "https"))
        request.caBundlePath = directory + "/ca.pem"
        return request
    }

    private func error(of request: CurlRequest) async throws -> CurlError? {
        do {
            _ = try await XCTUnwrap(client).perform(request)
            return nil
        } catch let error as CurlError {
            return error
        }
    }

    func testClientCertificateAccepted() async throws {
        var request = try tlsRequest()
        request.clientCertificatePEM = try file("client.pem")
        request.clientKeyPEM = try file("client.key")
        let response = try await XCTUnwrap(client).perform(request)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), #"{"ok":true}"#)
    }

    func testMissingClientCertificateRefused() async throws {
        let error = try await error(of: try tlsRequest())
        XCTAssertTrue(error?.kind == .tls || error?.kind == .connectFailed, "got \(String(describing: error))")
    }

    func testUntrustedServerRefusedUnlessVerificationIsOff() async throws {
        var untrusted = try tlsRequest()
        untrusted.caBundlePath = nil
        untrusted.clientCertificatePEM = try file("client.pem")
        untrusted.clientKeyPEM = try file("client.key")
        let error = try await error(of: untrusted)
        XCTAssertEqual(error?.kind, .tls, "got \(String(describing: error))")

        untrusted.insecureSkipVerify = true
        let response = try await XCTUnwrap(client).perform(untrusted)
        XCTAssertEqual(response.status, 200)
    }
}
