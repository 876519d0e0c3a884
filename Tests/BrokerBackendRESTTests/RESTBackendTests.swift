// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
import Synchronization
import XCTest

@testable import BrokerBackendREST

/// The REST backend against the real demo CRM service over loopback (libcurl, real sockets).
final class RESTBackendTests: XCTestCase {
    var server: CRMDemoServer?

    override func setUp() async throws {
        for (k, v) in CRMDemoServer.environment { setenv("RT_\(k)", v, 1) }
        setenv("RT_WRONG", "wrong-secret-value-123", 1)
        server = try await CRMDemoServer()
    }

    override func tearDown() async throws { server?.stop() }

    var base: String { server?.baseURL.absoluteString ?? "" }

    func backend(auth: String, extra: String = "", limits: String = "", logs: LogCapture? = nil) throws -> any Backend {
        let yaml = """
            base_url: \(base)
            internal: true
            shared_credentials: true
            auth: \(auth)
            \(limits)
            retries: { max_attempts: 3, base_delay_ms: 20, max_delay_ms: 200 }
            tools:
              get_account:
                description: One account.
                method: GET
                path: /api/v1/accounts/{id}
                parameters: { id: { in: path, type: string, required: true } }
                response: { fields: { id: /id, name: /name, owner: /owner/name } }
                errors: { "404": "Account {id} not found in CRM." }
              search_accounts:
                description: Accounts.
                method: GET
                path: /api/v1/accounts
                parameters: { limit: { in: query, type: integer } }
                response: { items: /data, fields: { id: /id, name: /name } }
                pagination: { next_cursor: /next_cursor, cursor_param: cursor, max_pages: 2 }
              contacts:
                description: Contacts.
                method: GET
                path: /api/v1/accounts/{id}/contacts
                parameters: { id: { in: path, type: string, required: true }, per_page: { in: query, type: integer } }
                pagination: { link_header: true, max_pages: 50 }
              create_unsafe:
                description: POST without an idempotency key.
                method: POST
                path: /api/v1/accounts
                body: { schema: { type: object } }
              flaky:
                description: Fails first.
                method: GET
                path: /faults/flaky/{key}
                parameters: { key: { in: path, type: string, required: true }, fail: { in: query, type: integer }, retry_after: { in: query, type: integer } }
              hang: { description: Hangs., method: GET, path: /faults/hang }
              slow: { description: Drips., method: GET, path: /faults/slow-body, parameters: { bytes: { in: query, type: integer }, rate: { in: query, type: integer } } }
              bomb: { description: Gzip bomb., method: GET, path: /faults/gzip-bomb }
              redirect: { description: Redirects., method: GET, path: /faults/redirect, parameters: { to: { in: query, type: string } } }
            \(extra)
            """
        var logger = Logger(label: "rest-test")
        if let logs { logger = Logger(label: "rest-test") { _ in logs.handler() } }
        logger.logLevel = .trace
        return try REST.kind.make(BackendSetup(name: "crm", settings: try ConfigNode.parse(yaml: yaml, file: "rest-test.yaml"), logger: logger))
    }

    static let bearer = "{ type: bearer, token: env:RT_CRM_BEARER_TOKEN }"

    func context(deadline: Duration = .seconds(20), logs: LogCapture? = nil) -> CallContext {
        var logger = Logger(label: "call")
        if let logs { logger = Logger(label: "call") { _ in logs.handler() } }
        logger.logLevel = .trace
        return CallContext(principal: Principal(id: "u", tenant: "acme"), correlationID: "c", deadline: .now + deadline, logger: logger)
    }

    func call(_ b: any Backend, _ tool: String, _ args: [String: JSONValue] = [:], deadline: Duration = .seconds(20)) async -> Result<JSONValue, BrokerError> {
        do {
            return .success(try await b.callTool(tool, arguments: args, context: context(deadline: deadline)).structured ?? .null)
        } catch let e as BrokerError { return .failure(e) } catch { return .failure(BrokerError(.internal, "\(error)")) }
    }

    func testEveryAuthKindAndWrongCredentials() async throws {
        let kinds = [
            Self.bearer,
            "{ type: basic, user: crm-user, password: env:RT_CRM_BASIC_PASSWORD }",
            "{ type: api_key, in: header, name: X-API-Key, value: env:RT_CRM_API_KEY }",
            "{ type: api_key, in: query, name: api_key, value: env:RT_CRM_API_KEY }",
            "{ type: oauth2_client_credentials, token_url: \"\(base)/oauth/token\", client_id: crm-client, client_secret: env:RT_CRM_CLIENT_SECRET }",
        ]
        for auth in kinds {
            let ok = await call(try backend(auth: auth), "get_account", ["id": "acc-0001"])
            XCTAssertEqual(try? ok.get()["id"], "acc-0001", auth)
            let wrong = auth.replacingOccurrences(of: #"env:RT_CRM_[A-Z_]+"#, with: "env:RT_WRONG", options: .regularExpression)
            let refused = await call(try backend(auth: wrong), "get_account", ["id": "acc-0001"])
            guard case .failure(let e) = refused else { return XCTFail("wrong credential accepted: \(wrong)") }
            XCTAssertEqual(e.code, .backendCredentialsRejected, wrong)
            XCTAssertFalse(e.message.contains("wrong-secret-value-123"))
        }
    }

    func testPerTenantCredentialSets() async throws {
        let b = try backend(auth: Self.bearer, extra: "tenants: { globex: { auth: { type: api_key, in: header, name: X-API-Key, value: env:RT_WRONG } } }")
        let acme = try await b.callTool("get_account", arguments: ["id": "acc-0001"], context: context())
        XCTAssertEqual(acme.structured?["id"], "acc-0001")
        var globex = context()
        globex.principal = Principal(id: "g", tenant: "globex")
        do {
            _ = try await b.callTool("get_account", arguments: ["id": "acc-0001"], context: globex)
            XCTFail("globex uses its own (here wrong) credential set, not acme's")
        } catch let e as BrokerError {
            XCTAssertEqual(e.code, .backendCredentialsRejected)
        }
    }

    func testNormalizerErrorsAndOpenAPIImport() async throws {
        let openapi = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/crm/openapi.json").path
        let b = try backend(auth: Self.bearer, extra: "openapi: { file: \(openapi), operations: [listOpportunities], rename: { listOpportunities: list_opps } }")
        let account = try await call(b, "get_account", ["id": "acc-0002"]).get()
        XCTAssertEqual(Set(account.objectValue?.keys.map { $0 } ?? []), ["id", "name", "owner"], "only the selected fields")
        XCTAssertNotNil(account["owner"]?.stringValue, "owner/name selected and renamed to owner")
        let missing = await call(b, "get_account", ["id": "acc-9999"])
        if case .failure(let e) = missing { XCTAssertEqual(e.message, "Account acc-9999 not found in CRM.") } else { XCTFail() }
        XCTAssertTrue(b.tools.contains { $0.name == "list_opps" })
        let opps = try await call(b, "list_opps", ["limit": 5]).get()
        XCTAssertEqual(opps["data"]?.arrayValue?.count, 5)
    }

    func testPaginationIsFollowedUpToTheCap() async throws {
        let b = try backend(auth: Self.bearer)
        let r = try await call(b, "search_accounts", ["limit": 10]).get()
        XCTAssertEqual(r["items"]?.arrayValue?.count, 20)
        XCTAssertEqual(r["pages"], 2)
        XCTAssertEqual(r["truncated"], true)
        let ids = r["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        XCTAssertEqual(Set(ids).count, 20)
        let contacts = try await call(b, "contacts", ["id": "acc-0001", "per_page": 2]).get()
        XCTAssertGreaterThan(contacts["pages"]?.intValue ?? 0, 1, "Link header pages followed")
        XCTAssertEqual(contacts["truncated"], false)
    }

    func testRetriesRetryAfterAndNoRetryOfPOST() async throws {
        let b = try backend(auth: Self.bearer)
        let key = "k\(UUID().uuidString.prefix(8))"
        let ok = await call(b, "flaky", ["key": .string(key), "fail": 2])
        XCTAssertEqual(try? ok.get()["ok"], true, "succeeds on the third attempt")
        let start = ContinuousClock.now
        let waited = await call(b, "flaky", ["key": .string(key + "r"), "fail": 1, "retry_after": 1])
        XCTAssertEqual(try? waited.get()["ok"], true)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(950), "Retry-After honoured")
        let giveUp = await call(b, "flaky", ["key": .string(key + "x"), "fail": 5])
        if case .failure(let e) = giveUp { XCTAssertEqual(e.code, .backendUnavailable) } else { XCTFail("gave up after max attempts") }
        _ = try await server?.request("POST", "/_control/faults", headers: ["Content-Type": "application/json"], body: Data(#"{"fail_next":1,"fail_status":503}"#.utf8))
        let post = await call(b, "create_unsafe", ["body": ["name": "X", "country": "DE"]])
        if case .failure(let e) = post { XCTAssertEqual(e.code, .backendUnavailable) } else { XCTFail("503 expected") }
        let (_, _, stats) = try await server?.request("GET", "/_control/stats") ?? (0, [:], Data())
        let posts = (try JSONParser.parse(Array(stats)))["requests"]?["POST /api/v1/accounts"]?.intValue
        XCTAssertEqual(posts, 1, "a non-idempotent POST is never retried")
    }

    func testTimeoutsLowSpeedGzipBombAndRedirect() async throws {
        let b = try backend(auth: Self.bearer, limits: "limits: { timeout_ms: 600, low_speed_bytes_per_s: 100, low_speed_time_s: 1, max_body_bytes: 1048576 }")
        let start = ContinuousClock.now
        if case .failure(let e) = await call(b, "hang") { XCTAssertEqual(e.code, .timeout) } else { XCTFail() }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(3), "a hanging backend cannot hang the call")
        let b2 = try backend(auth: Self.bearer, limits: "limits: { timeout_ms: 8000, low_speed_bytes_per_s: 100, low_speed_time_s: 1, max_body_bytes: 1048576 }")
        let slowStart = ContinuousClock.now
        if case .failure(let e) = await call(b2, "slow", ["bytes": 5000, "rate": 10]) { XCTAssertEqual(e.code, .timeout) } else { XCTFail() }
        XCTAssertLessThan(ContinuousClock.now - slowStart, .seconds(4), "low-speed abort")
        if case .failure(let e) = await call(b2, "bomb") {
            XCTAssertTrue(e.message.contains("larger than the configured limit"), e.message)
        } else { XCTFail("the gzip bomb must stop at the decoded cap") }
        if case .failure(let e) = await call(b2, "redirect", ["to": "http://169.254.169.254/latest/meta-data"]) {
            XCTAssertTrue(e.message.contains("redirects are not followed"), e.message)
        } else { XCTFail("redirect must not be followed") }
    }

    func testPrivateAddressesRefusedUnlessInternal() async throws {
        let port = server?.baseURL.port ?? 0
        let yaml = """
            base_url: https://localhost:\(port)
            shared_credentials: true
            auth: \(Self.bearer)
            tools: { ping: { description: x, method: GET, path: /health } }
            """
        let b = try REST.kind.make(BackendSetup(name: "crm", settings: try ConfigNode.parse(yaml: yaml, file: "t.yaml"), logger: Logger(label: "t")))
        if case .failure(let e) = await call(b, "ping") { XCTAssertEqual(e.code, .forbidden) } else { XCTFail("SSRF guard") }
        XCTAssertThrowsError(try REST.kind.make(BackendSetup(name: "crm", settings: try ConfigNode.parse(yaml: yaml.replacingOccurrences(of: "https://", with: "http://"), file: "t.yaml"), logger: Logger(label: "t")))) { e in
            XCTAssertTrue(String(describing: e).contains("plain http:// is allowed only"), "\(e)")
        }
    }

    func testSecretsNeverReachLogs() async throws {
        let logs = LogCapture()
        let auth = "{ type: oauth2_client_credentials, token_url: \"\(base)/oauth/token\", client_id: crm-client, client_secret: env:RT_CRM_CLIENT_SECRET }"
        let b = try backend(auth: auth, logs: logs)
        _ = await call(b, "get_account", ["id": "acc-0001"])
        _ = await call(b, "flaky", ["key": "logs1", "fail": 1])
        _ = try await b.callTool("get_account", arguments: ["id": "acc-0003"], context: context(logs: logs))
        let bad = try backend(auth: Self.bearer.replacingOccurrences(of: "RT_CRM_BEARER_TOKEN", with: "RT_WRONG"), logs: logs)
        _ = try? await bad.callTool("get_account", arguments: ["id": "acc-0001"], context: context(logs: logs))
        let text = logs.text
        XCTAssertFalse(text.isEmpty, "something was logged")
        for secret in ["crm-client-secret", "test-static-bearer", "wrong-secret-value-123", "Bearer ", "Basic "] {
            XCTAssertFalse(text.contains(secret), "\(secret) leaked into logs")
        }
    }
}

/// Collects log lines (messages and metadata) for assertions.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])
    var text: String { lines.withLock { $0.joined(separator: "\n") } }
    func handler() -> any LogHandler { Handler(capture: self) }
    func append(_ s: String) { lines.withLock { $0.append(s) } }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            capture.append("\(event.level) \(event.message) \(metadata) \(event.metadata ?? [:])")
        }
    }
}
