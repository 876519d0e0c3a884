// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
import XCTest

@testable import BrokerBackendREST

/// Path traversal and environment proxies: what libcurl would do on its own, checked against a real server.
final class RESTRequestSafetyTests: XCTestCase {
    private var server: CurlTestServer?
    private var client: CurlClient?

    override func setUpWithError() throws {
        server = try CurlTestServer()
        client = CurlClient(name: "safety")
    }

    override func tearDown() {
        client?.shutdown()
        server?.stop()
    }

    private func backend() throws -> any Backend {
        let yaml = """
            base_url: http://127.0.0.1:\(try XCTUnwrap(server).port)
            internal: true
            shared_credentials: true
            tools:
              item: { description: One item., method: GET, path: "/echo/items/{id}/detail", parameters: { id: { in: path, type: string, required: true } } }
            """
        return try REST.kind.make(BackendSetup(name: "crm", settings: try ConfigNode.parse(yaml: yaml, file: "t.yaml"), logger: Logger(label: "t")))
    }

    private var context: CallContext {
        CallContext(principal: Principal(id: "u", tenant: "acme"), correlationID: "c", deadline: .now + .seconds(10), logger: Logger(label: "t"))
    }

    private func capture<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    /// Request targets the server has seen, read without any proxy in the environment.
    private func seen(_ s: CurlTestServer) async throws -> [String] {
        let body = try await XCTUnwrap(client).perform(CurlRequest(method: "GET", url: s.url("/seen"))).body
        return try JSONParser.parse(body)["targets"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    func testDotSegmentValuesAreRefusedBeforeAnyRequest() async throws {
        let b = try backend()
        let hostile = [".", "..", "%2e%2e", "%2E.", ".%2e", "a/../b", "../admin", "x/.", "..\\windows", "%252e%252e", "%25252e%25252e",
                       "%2e%2e%2fadmin", "%2e%2e/%zz", "a%5c..%5cb"]
        for value in hostile {
            do {
                _ = try await b.callTool("item", arguments: ["id": .string(value)], context: context)
                XCTFail("\(value) reached the backend")
            } catch let e as BrokerError {
                XCTAssertEqual(e.code, .invalidArguments, value)
                XCTAssertEqual(e.message, "'id' must not be or contain the path segment '.' or '..' (in any encoding).", value)
            }
        }
        let none = try await seen(try XCTUnwrap(server))
        XCTAssertEqual(none, [], "no request for any of them")
        for fine in ["a.b", "...", "v1.2.3", "a/b", "100%", ".hidden", "..x"] {
            let out = try await b.callTool("item", arguments: ["id": .string(fine)], context: context)
            XCTAssertEqual(out.structured?["method"], "GET", fine)
        }
        let targets = try await seen(try XCTUnwrap(server))
        XCTAssertEqual(targets.first, "/echo/items/a.b/detail")
        XCTAssertEqual(targets.dropFirst(3).first, "/echo/items/a%2Fb/detail", "a slash is encoded, never a separator")
    }

    func testLibcurlSendsThePathAsIsWithoutCollapsingDotSegments() async throws {
        let s = try XCTUnwrap(server)
        let response = try await XCTUnwrap(client).perform(CurlRequest(method: "GET", url: s.url("/echo/a/../b/./c")))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(try JSONParser.parse(response.body)["path"], "/echo/a/../b/./c", "not /echo/b/c")
    }

    func testProxyFromTheEnvironmentIsNeverUsed() async throws {
        let proxy = try CurlTestServer()
        defer { proxy.stop() }
        let names = ["http_proxy", "https_proxy", "all_proxy", "HTTPS_PROXY", "ALL_PROXY", "no_proxy", "NO_PROXY"]
        let saved = names.map { ($0, getenv($0).map { String(cString: $0) }) }
        func restore() {
            for (name, value) in saved {
                if let value { setenv(name, value, 1) } else { unsetenv(name) }
            }
        }
        for name in names { unsetenv(name) }
        // libcurl reads these when a transfer starts, so setting them now steers the next transfer.
        for name in ["http_proxy", "all_proxy", "ALL_PROXY"] { setenv(name, "http://127.0.0.1:\(proxy.port)", 1) }
        let direct = await capture { try await XCTUnwrap(client).perform(CurlRequest(method: "GET", url: try XCTUnwrap(server).url("/echo"))) }
        let viaBackend = await capture { try await backend().callTool("item", arguments: ["id": "p1"], context: context) }
        for name in names { unsetenv(name) }
        defer { restore() }
        let directResponse = try direct.get()
        XCTAssertEqual(directResponse.status, 200)
        XCTAssertEqual(try JSONParser.parse(directResponse.body)["path"], "/echo", "answered by the real server")
        XCTAssertEqual(try viaBackend.get().structured?["path"], "/echo/items/p1/detail")
        let proxied = try await seen(proxy)
        XCTAssertEqual(proxied, [], "the proxy listener got nothing")
    }
}
