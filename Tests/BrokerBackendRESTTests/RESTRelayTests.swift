// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
import XCTest

@testable import BrokerBackendREST

/// Tools without a response mapping relay the backend's document as checked, compacted bytes (real libcurl,
/// real HTTP server on loopback).
final class RESTRelayTests: XCTestCase {
    var server: CurlTestServer?

    override func setUpWithError() throws { server = try CurlTestServer() }
    override func tearDown() { server?.stop() }

    func backend() throws -> any Backend {
        let port = try XCTUnwrap(server).port
        let yaml = """
            base_url: http://127.0.0.1:\(port)
            internal: true
            shared_credentials: true
            tools:
              pretty: { description: Pretty-printed object., method: GET, path: /pretty }
              array: { description: A top-level array., method: GET, path: /array }
              truncated: { description: Cut-off JSON., method: GET, path: /truncated }
              bad_utf8: { description: Not UTF-8., method: GET, path: /bad-utf8 }
              long: { description: A long document., method: GET, path: /long }
              mapped: { description: Mapped., method: GET, path: /pretty, response: { fields: { city: /name } } }
            """
        return try REST.kind.make(BackendSetup(name: "relay", settings: try ConfigNode.parse(yaml: yaml, file: "t.yaml"), logger: Logger(label: "t")))
    }

    var context: CallContext {
        CallContext(principal: Principal(id: "u", tenant: "acme"), correlationID: "c", deadline: .now + .seconds(10), logger: Logger(label: "t"))
    }

    func testUnmappedDocumentIsRelayedCompactedAndIntact() async throws {
        let out = try await backend().callTool("pretty", arguments: [:], context: context)
        let encoded = try XCTUnwrap(out.encodedStructured, "an unmapped document takes the relay path")
        XCTAssertEqual(encoded.kind, .object)
        let text = String(decoding: encoded.bytes, as: UTF8.self)
        XCTAssertFalse(text.contains("\n"), "pretty-printing removed: stdio and SSE frame by line")
        XCTAssertTrue(text.contains(#""name":"Zürich ✓""#), "strings copied as written")
        XCTAssertTrue(text.contains(#""n":1.5"#), "numbers copied as written")
        XCTAssertEqual(out.structured, ["name": "Zürich ✓", "tags": ["a b", "c"], "n": 1.5, "nested": ["x": .null]])
        XCTAssertEqual(out.text, text, "a short document is its own text block")
        XCTAssertTrue(out.hasObjectResult)
    }

    func testArrayIsWrappedAsItems() async throws {
        let out = try await backend().callTool("array", arguments: [:], context: context)
        XCTAssertEqual(out.encodedStructured.map { String(decoding: $0.bytes, as: UTF8.self) }, #"{"items":[1,2,{"a":"b"}]}"#)
        XCTAssertTrue(out.hasObjectResult)
    }

    func testMappedToolStillBuildsATree() async throws {
        let out = try await backend().callTool("mapped", arguments: [:], context: context)
        XCTAssertNil(out.encodedStructured)
        XCTAssertEqual(out.structured, ["city": "Zürich ✓"])
    }

    func testLongDocumentGetsAPreviewCutOnACharacterBoundary() async throws {
        let out = try await backend().callTool("long", arguments: [:], context: context)
        let text = try XCTUnwrap(out.text)
        XCTAssertTrue(text.hasSuffix("…"))
        XCTAssertLessThanOrEqual(text.utf8.count, RESTBackend.textPreviewBytes + "…".utf8.count)
        XCTAssertFalse(text.contains("\u{FFFD}"), "no é split in half")
        XCTAssertEqual(out.structured?["rows"]?.arrayValue?.count, 200, "the structured result is complete")
    }

    func testInvalidDocumentsGetABusinessErrorWithoutBackendText() async throws {
        let b = try backend()
        for tool in ["truncated", "bad_utf8"] {
            do {
                _ = try await b.callTool(tool, arguments: [:], context: context)
                XCTFail("\(tool) must fail")
            } catch let e as BrokerError {
                XCTAssertEqual(e.code, .backendError, tool)
                XCTAssertEqual(e.message, "The relay service returned a response that is not valid JSON.")
                XCTAssertNotNil(e.detail, "the parse position goes to the debug log")
            }
        }
    }
}
