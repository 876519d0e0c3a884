// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
import XCTest

final class ConfigurationTests: XCTestCase {
    func parse(_ yaml: String) throws -> BrokerConfiguration { try BrokerConfiguration.parse(yaml: yaml, file: "broker.yaml") }

    func error(_ yaml: String) -> String {
        do {
            _ = try parse(yaml)
            return "no error"
        } catch { return String(describing: error) }
    }

    func testReadsServerSettingsAndBackends() throws {
        let c = try parse(
            """
            server:
              page_size: 7
              http: { port: 9123, allowed_origins: [https://app.example.com] }
              stdio: { principal: { id: alice, tenant: acme, roles: [analyst], attributes: { region: EMEA } } }
            backends:
              hr: { kind: mock-hr }
            """)
        XCTAssertEqual(c.server.pageSize, 7)
        XCTAssertEqual(c.server.http.port, 9123)
        XCTAssertEqual(c.server.http.host, "127.0.0.1", "loopback by default")
        XCTAssertEqual(c.server.stdioPrincipal, Principal(id: "alice", tenant: "acme", roles: ["analyst"], attributes: ["region": "EMEA"]))
        XCTAssertEqual(c.backends.map(\.name), ["hr"])
        XCTAssertEqual(c.backends.first?.kind, "mock-hr")
    }

    func testErrorsNameFileKeyPathAndReason() {
        XCTAssertTrue(error("server:\n  page_sise: 3\n").hasPrefix("broker.yaml:2: server.page_sise: unknown key"))
        XCTAssertEqual(error("server:\n  http:\n    port: fast\n"), #"broker.yaml:3: server.http.port: expected an integer, got "fast""#)
        XCTAssertEqual(error("server:\n  http:\n    port: 70000\n"), "broker.yaml:3: server.http.port: must be between 0 and 65535, got 70000")
        XCTAssertTrue(error("backends:\n  Bad_Name: { kind: x }\n").contains("backends.Bad_Name: backend names use lowercase"))
        XCTAssertEqual(error("backends:\n  hr: {}\n"), "broker.yaml:2: backends.hr.kind: is required")
        XCTAssertTrue(error("server:\n  tool_separator: '.'\n").contains("server.tool_separator: must be 1-4 characters"))
        XCTAssertTrue(error("server: [1]\n").contains("server: expected a mapping"))
        XCTAssertTrue(error("a: [\n").contains("not valid YAML"))
    }

    func testSecretsMustBeReferencesThatExist() throws {
        let root = try ConfigNode.parse(yaml: "password: hunter2\ntoken: env:MCP_BROKER_TEST_UNSET_VAR\n", file: "b.yaml")
        XCTAssertThrowsError(try root.secret("password")) { e in
            XCTAssertEqual(String(describing: e), "b.yaml:1: password: inline secrets are refused; write env:NAME or file:/path and put the value there")
        }
        XCTAssertThrowsError(try root.secret("token")) { e in
            XCTAssertEqual(String(describing: e), "b.yaml:2: token: environment variable MCP_BROKER_TEST_UNSET_VAR is not set (credential missing)")
        }
    }

    /// The stat-validated cache must never serve a value the file no longer holds: in-place rewrites of the same
    /// size, and the symlink swap Kubernetes uses for mounted secrets.
    func testCachedSecretFilesSeeEveryKindOfRotation() throws {
        let dir = NSTemporaryDirectory() + "mcp-broker-secrets-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/v1", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir + "/v2", withIntermediateDirectories: true)
        try "alpha\n".write(toFile: dir + "/v1/token", atomically: false, encoding: .utf8)
        try "bravo\n".write(toFile: dir + "/v2/token", atomically: false, encoding: .utf8)
        try fm.createSymbolicLink(atPath: dir + "/..data", withDestinationPath: "v1")
        try fm.createSymbolicLink(atPath: dir + "/token", withDestinationPath: "..data/token")
        guard let ref = SecretReference(parsing: "file:\(dir)/token") else { return XCTFail() }
        XCTAssertEqual(try ref.resolve().withValue { $0 }, "alpha")
        XCTAssertEqual(try ref.resolve().withValue { $0 }, "alpha", "unchanged file: served from the cache")
        // Kubernetes: the ..data link is replaced to point at the new version directory.
        try fm.removeItem(atPath: dir + "/..data")
        try fm.createSymbolicLink(atPath: dir + "/..data", withDestinationPath: "v2")
        XCTAssertEqual(try ref.resolve().withValue { $0 }, "bravo")
        // In place, same length: the modification time tells.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: dir + "/v2/token"))
        try handle.write(contentsOf: Data("delta\n".utf8))
        try handle.close()
        XCTAssertEqual(try ref.resolve().withValue { $0 }, "delta")
        try fm.removeItem(atPath: dir + "/v2/token")
        XCTAssertThrowsError(try ref.resolve(), "a removed file is an error, not the cached value")
    }

    func testSecretFilesRotateWithoutRestartAndNeverPrint() throws {
        let path = NSTemporaryDirectory() + "mcp-broker-secret-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "first\n".write(toFile: path, atomically: true, encoding: .utf8)
        guard let ref = SecretReference(parsing: "file:\(path)") else { return XCTFail() }
        XCTAssertEqual(try ref.resolve().withValue { $0 }, "first")
        try "second".write(toFile: path, atomically: true, encoding: .utf8)
        let secret = try ref.resolve()
        XCTAssertEqual(secret.withValue { $0 }, "second")
        XCTAssertEqual("\(secret)", "<redacted>")
        XCTAssertEqual(String(reflecting: secret), "<redacted>")
        XCTAssertFalse(String(describing: Mirror(reflecting: secret).children.map(\.value)).contains("second"))
        let encoded = try JSONEncoder().encode([secret])
        XCTAssertEqual(String(decoding: encoded, as: UTF8.self), #"["<redacted>"]"#)
        XCTAssertTrue(secret.constantTimeEquals(Secret("second")))
        XCTAssertFalse(secret.constantTimeEquals(Secret("secon")))
    }

    func testRequestStateSettings() throws {
        XCTAssertEqual(try parse("server: {}\n").server.requestState, RequestStateSettings(key: nil, ttlSeconds: 300), "defaults")
        let path = NSTemporaryDirectory() + "mcp-broker-rs-key-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "0123456789abcdef0123456789abcdef\n".write(toFile: path, atomically: true, encoding: .utf8)
        let c = try parse("server:\n  request_state:\n    key: file:\(path)\n    ttl_seconds: 600\n")
        XCTAssertEqual(c.server.requestState, RequestStateSettings(key: SecretReference(parsing: "file:\(path)"), ttlSeconds: 600))
        XCTAssertEqual(try parse("server:\n  request_state: { ttl_seconds: 86400 }\n").server.requestState.ttlSeconds, 86400)

        try "0123456789abcdef0123456789abcde\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(
            error("server:\n  request_state:\n    key: file:\(path)\n"),
            "broker.yaml:3: server.request_state.key: the key must be at least 32 bytes (it has 31); generate one with `openssl rand -base64 48`")
        XCTAssertEqual(
            error("server:\n  request_state: { ttl_seconds: 0 }\n"), "broker.yaml:2: server.request_state.ttl_seconds: must be between 1 and 86400, got 0")
        XCTAssertTrue(error("server:\n  request_state: { ttl_seconds: 86401 }\n").contains("must be between 1 and 86400, got 86401"))
        XCTAssertTrue(error("server:\n  request_state: { ttl_seconds: soon }\n").contains("expected an integer"))
        XCTAssertEqual(
            error("server:\n  request_state:\n    key: 0123456789abcdef0123456789abcdef0123\n"),
            "broker.yaml:3: server.request_state.key: inline secrets are refused; write env:NAME or file:/path and put the value there")
        XCTAssertTrue(
            error("server:\n  request_state: { key: env:MCP_BROKER_TEST_UNSET_RS_KEY }\n")
                .contains("server.request_state.key: environment variable MCP_BROKER_TEST_UNSET_RS_KEY is not set"))
        XCTAssertTrue(error("server:\n  request_state: { ttl: 5 }\n").contains("server.request_state.ttl: unknown key"))
    }

    func testDirectoryConfigMergesAndRefusesDuplicates() throws {
        let dir = NSTemporaryDirectory() + "mcp-broker-cfg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "server: { page_size: 9 }\nbackends:\n  hr: { kind: mock-hr }\n".write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        try "backends:\n  erp: { kind: mock-erp }\n".write(toFile: dir + "/b.yaml", atomically: true, encoding: .utf8)
        let c = try BrokerConfiguration.load(path: dir)
        XCTAssertEqual(c.backends.map(\.name), ["hr", "erp"])
        XCTAssertEqual(c.server.pageSize, 9)
        try "backends:\n  hr: { kind: mock-hr }\n".write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BrokerConfiguration.load(path: dir)) { e in
            XCTAssertTrue(String(describing: e).contains("backends.hr: backend 'hr' is defined twice"), "\(e)")
        }
    }

    func testCatalogRefusesBadNamesAndRoutesByPrefix() throws {
        let long = TestBackend(name: String(repeating: "x", count: 60))
        XCTAssertThrowsError(try Catalog(backends: [long], separator: "__")) { e in
            XCTAssertTrue(String(describing: e).contains("must match ^[a-zA-Z0-9_-]{1,64}$"), "\(e)")
        }
        XCTAssertThrowsError(try Catalog(backends: [TestBackend(name: "a"), TestBackend(name: "a")], separator: "__")) { e in
            XCTAssertTrue(String(describing: e).contains("produced twice"), "\(e)")
        }
        let c = try Catalog(backends: [TestBackend(name: "a"), TestBackend(name: "b-c")], separator: "__")
        XCTAssertEqual(c.tool(named: "b-c__echo")?.backendIndex, 1)
        XCTAssertNil(c.tool(named: "b-c_echo"))
        XCTAssertNil(c.tool(named: "__echo"))
        XCTAssertFalse(Catalog.isValidToolName("erp.get_order"))
        XCTAssertTrue(Catalog.isValidToolName("erp__get_order-2"))
    }

    func testUnknownKindIsAConfigError() throws {
        let c = try parse("backends:\n  ldap: { kind: ldap }\n")
        XCTAssertThrowsError(try Broker(configuration: c, registry: BackendRegistry(), logger: Logger(label: "t"))) { e in
            XCTAssertTrue(String(describing: e).contains("backends.ldap.kind: unknown backend kind 'ldap'"), "\(e)")
        }
    }
}
