// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
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

    /// The same mutual TLS through the REST plugin's configuration: PEM secrets by `file:` reference.
    func testMutualTLSThroughThePluginConfiguration() async throws {
        let port = try XCTUnwrap(server).port
        func backend(_ tls: String) throws -> any Backend {
            let yaml = """
                base_url: https://127.0.0.1:\(port)
                internal: true
                shared_credentials: true
                ca_file: \(directory)/ca.pem
                \(tls)
                tools: { ok: { description: ok, method: GET, path: /ok } }
                """
            return try REST.kind.make(BackendSetup(name: "secure", settings: try ConfigNode.parse(yaml: yaml, file: "t.yaml"), logger: Logger(label: "t")))
        }
        let context = CallContext(principal: Principal(id: "u", tenant: "acme"), correlationID: "c", deadline: .now + .seconds(10), logger: Logger(label: "t"))
        let withCertificate = try backend("tls_client: { certificate: file:\(directory)/client.pem, key: file:\(directory)/client.key }")
        let ok = try await withCertificate.callTool("ok", arguments: [:], context: context)
        XCTAssertNotNil(ok.structured)
        do {
            _ = try await backend("").callTool("ok", arguments: [:], context: context)
            XCTFail("the server requires a client certificate")
        } catch let e as BrokerError {
            XCTAssertEqual(e.code, .backendCredentialsRejected, e.message)
        }
    }
}
