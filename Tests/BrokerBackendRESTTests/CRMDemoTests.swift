// SPDX-License-Identifier: Apache-2.0

import Foundation
import XCTest

/// The demo CRM service over loopback: auth kinds, OAuth, both pagination styles, idempotency, errors, faults, OpenAPI.
final class CRMDemoTests: XCTestCase {
    private var server: CRMDemoServer?
    private let apiKey = ["X-API-Key": "test-api-key"]

    override func setUp() async throws {
        server = try await CRMDemoServer()
    }

    override func tearDown() async throws {
        server?.stop()
        server = nil
    }

    private func crm() throws -> CRMDemoServer { try XCTUnwrap(server) }

    private func object(_ data: Data) throws -> [String: Any] { try XCTUnwrap(try crmJSON(data) as? [String: Any]) }

    private func errorCode(_ data: Data) throws -> String? { (try object(data)["error"] as? [String: Any])?["code"] as? String }

    func testEveryAuthKindIsAcceptedAndWrongCredentialsAreRefused() async throws {
        let crm = try crm()
        let good: [(String, [String: String], String)] = [
            ("bearer", ["Authorization": "Bearer test-static-bearer"], "/api/v1/accounts/acc-0001"),
            ("basic", ["Authorization": crmBasic("crm-user", "crm-pass")], "/api/v1/accounts/acc-0001"),
            ("api key header", apiKey, "/api/v1/accounts/acc-0001"),
            ("api key query", [:], "/api/v1/accounts/acc-0001?api_key=test-api-key"),
        ]
        for (kind, headers, path) in good {
            let (status, _, body) = try await crm.request("GET", path, headers: headers)
            XCTAssertEqual(status, 200, kind)
            XCTAssertEqual(try object(body)["id"] as? String, "acc-0001", kind)
        }
        let bad: [(String, [String: String], String)] = [
            ("none", [:], "/api/v1/accounts"),
            ("wrong bearer", ["Authorization": "Bearer nope"], "/api/v1/accounts"),
            ("wrong basic", ["Authorization": crmBasic("crm-user", "wrong")], "/api/v1/accounts"),
            ("wrong api key", ["X-API-Key": "nope"], "/api/v1/accounts"),
            ("wrong api key query", [:], "/api/v1/accounts?api_key=nope"),
        ]
        for (kind, headers, path) in bad {
            let (status, fields, body) = try await crm.request("GET", path, headers: headers)
            XCTAssertEqual(status, 401, kind)
            XCTAssertEqual(fields["www-authenticate"]?.hasPrefix("Bearer"), true, kind)
            XCTAssertEqual(try errorCode(body), "UNAUTHORIZED", kind)
        }
    }

    func testOAuthClientCredentialsTokenWorksAsBearer() async throws {
        let crm = try crm()
        let form = ["Content-Type": "application/x-www-form-urlencoded"]
        var (status, _, body) = try await crm.request(
            "POST", "/oauth/token", headers: form.merging(["Authorization": crmBasic("crm-client", "crm-client-secret")]) { $1 },
            body: Data("grant_type=client_credentials".utf8))
        XCTAssertEqual(status, 200)
        let token = try XCTUnwrap(try object(body)["access_token"] as? String)
        XCTAssertEqual(try object(body)["token_type"] as? String, "Bearer")
        XCTAssertEqual(try object(body)["expires_in"] as? Int, 300)
        (status, _, body) = try await crm.request("GET", "/api/v1/opportunities?limit=1", headers: ["Authorization": "Bearer \(token)"])
        XCTAssertEqual(status, 200)

        (status, _, body) = try await crm.request(
            "POST", "/oauth/token", headers: form, body: Data("grant_type=client_credentials&client_id=crm-client&client_secret=crm-client-secret".utf8))
        XCTAssertEqual(status, 200, "client credentials as form fields")
        (status, _, body) = try await crm.request(
            "POST", "/oauth/token", headers: form, body: Data("grant_type=client_credentials&client_id=crm-client&client_secret=wrong".utf8))
        XCTAssertEqual(status, 401)
        XCTAssertEqual(try object(body)["error"] as? String, "invalid_client")
        XCTAssertFalse(String(decoding: body, as: UTF8.self).contains("crm-client-secret"))

        (status, _, body) = try await crm.request("GET", "/_control/stats")
        XCTAssertEqual(status, 200)
        XCTAssertEqual(try object(body)["tokens_issued"] as? Int, 2)
    }

    func testCursorPaginationIsCompleteWithoutDuplicates() async throws {
        let crm = try crm()
        var ids: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let query = cursor.map { "&cursor=\($0)" } ?? ""
            let (status, _, body) = try await crm.request("GET", "/api/v1/accounts?limit=7\(query)", headers: apiKey)
            XCTAssertEqual(status, 200)
            let page = try object(body)
            ids += try XCTUnwrap(page["data"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            cursor = page["next_cursor"] as? String
            pages += 1
        } while cursor != nil && pages < 100
        XCTAssertEqual(pages, 29)
        XCTAssertEqual(ids.count, 200)
        XCTAssertEqual(Set(ids).count, 200)
        XCTAssertEqual(ids.first, "acc-0001")

        var stageIDs: [String] = []
        cursor = nil
        pages = 0
        repeat {
            let query = cursor.map { "&cursor=\($0)" } ?? ""
            let (status, _, body) = try await crm.request("GET", "/api/v1/opportunities?stage=proposal&limit=20\(query)", headers: apiKey)
            XCTAssertEqual(status, 200)
            let page = try object(body)
            let data = try XCTUnwrap(page["data"] as? [[String: Any]])
            XCTAssertTrue(data.allSatisfy { $0["stage"] as? String == "proposal" })
            stageIDs += data.compactMap { $0["id"] as? String }
            cursor = page["next_cursor"] as? String
            pages += 1
        } while cursor != nil && pages < 100
        XCTAssertEqual(stageIDs.count, 50)
        XCTAssertEqual(Set(stageIDs).count, 50)

        let (status, _, body) = try await crm.request("GET", "/api/v1/accounts?cursor=garbage", headers: apiKey)
        XCTAssertEqual(status, 400)
        XCTAssertEqual(try errorCode(body), "INVALID_CURSOR")
    }

    func testLinkHeaderPaginationFollowsNextToTheEnd() async throws {
        let crm = try crm()
        var path: String? = "/api/v1/accounts/acc-0003/contacts?per_page=3"
        var ids: [String] = []
        var pages = 0
        while let next = path, pages < 50 {
            let (status, fields, body) = try await crm.request("GET", next, headers: apiKey)
            XCTAssertEqual(status, 200)
            XCTAssertEqual(fields["x-total-count"], "20")
            ids += try XCTUnwrap(try crmJSON(body) as? [[String: Any]]).compactMap { $0["id"] as? String }
            path = Self.nextLink(fields["link"] ?? "").map { $0.replacingOccurrences(of: crm.baseURL.absoluteString, with: "") }
            pages += 1
        }
        XCTAssertEqual(pages, 7)
        XCTAssertEqual(ids.count, 20)
        XCTAssertEqual(Set(ids).count, 20)
    }

    /// The target of `rel="next"` in an RFC 8288 Link header.
    static func nextLink(_ header: String) -> String? {
        for part in header.split(separator: ",") where part.contains("rel=\"next\"") {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">") else { return nil }
            return String(part[part.index(after: open)..<close])
        }
        return nil
    }

    func testIdempotencyReplaysSameBodyAndRefusesADifferentOne() async throws {
        let crm = try crm()
        let headers = apiKey.merging(["Content-Type": "application/json", "Idempotency-Key": "order-77"]) { $1 }
        let body = Data(#"{"name":"Zeta Robotics","industry":"software","country":"DE"}"#.utf8)
        let (first, _, firstBody) = try await crm.request("POST", "/api/v1/accounts", headers: headers, body: body)
        XCTAssertEqual(first, 201)
        let created = try object(firstBody)
        XCTAssertEqual(created["id"] as? String, "acc-0201")
        let (replay, _, replayBody) = try await crm.request("POST", "/api/v1/accounts", headers: headers, body: body)
        XCTAssertEqual(replay, 200)
        XCTAssertEqual(try object(replayBody)["id"] as? String, "acc-0201")
        XCTAssertEqual(try object(replayBody)["created_at"] as? String, created["created_at"] as? String)
        let other = Data(#"{"name":"Other","industry":"software","country":"DE"}"#.utf8)
        let (conflict, _, conflictBody) = try await crm.request("POST", "/api/v1/accounts", headers: headers, body: other)
        XCTAssertEqual(conflict, 409)
        XCTAssertEqual(try errorCode(conflictBody), "IDEMPOTENCY_CONFLICT")
        let (fetched, _, _) = try await crm.request("GET", "/api/v1/accounts/acc-0201", headers: apiKey)
        XCTAssertEqual(fetched, 200)
        let (missing, _, _) = try await crm.request("GET", "/api/v1/accounts/acc-0202", headers: apiKey)
        XCTAssertEqual(missing, 404, "the replay and the conflict created nothing")
    }

    func testErrorBodiesNotFoundAndValidation() async throws {
        let crm = try crm()
        var (status, _, body) = try await crm.request("GET", "/api/v1/accounts/acc-9999", headers: apiKey)
        XCTAssertEqual(status, 404)
        let error = try XCTUnwrap(try object(body)["error"] as? [String: Any])
        XCTAssertEqual(error["code"] as? String, "ACCOUNT_NOT_FOUND")
        XCTAssertEqual(error["message"] as? String, "No account with id acc-9999")

        (status, _, body) = try await crm.request(
            "POST", "/api/v1/accounts", headers: apiKey, body: Data(#"{"name":"","industry":"mining","country":"de"}"#.utf8))
        XCTAssertEqual(status, 422)
        let fields = try XCTUnwrap((try object(body)["error"] as? [String: Any])?["fields"] as? [[String: Any]])
        XCTAssertEqual(Set(fields.compactMap { $0["field"] as? String }), ["name", "industry", "country"])

        (status, _, body) = try await crm.request(
            "PATCH", "/api/v1/opportunities/opp-0002", headers: apiKey,
            body: Data(#"{"stage":"negotiation","amount":{"value":1234.5,"currency":"EUR"}}"#.utf8))
        XCTAssertEqual(status, 200)
        XCTAssertEqual(try object(body)["stage"] as? String, "negotiation")
        XCTAssertEqual((try object(body)["amount"] as? [String: Any])?["value"] as? Double, 1234.5)
        (status, _, body) = try await crm.request("PATCH", "/api/v1/opportunities/opp-0002", headers: apiKey, body: Data(#"{"stage":"won"}"#.utf8))
        XCTAssertEqual(status, 422)
        XCTAssertEqual(try errorCode(body), "VALIDATION_FAILED")
    }

    func testFaultKnobs() async throws {
        let crm = try crm()
        var codes: [Int] = []
        for _ in 0..<3 { codes.append(try await crm.request("GET", "/faults/flaky/t1?fail=2&status=503&retry_after=1").0) }
        XCTAssertEqual(codes, [503, 503, 200])

        var (status, fields, body) = try await crm.request("GET", "/faults/status/429?retry_after=3")
        XCTAssertEqual(status, 429)
        XCTAssertEqual(fields["retry-after"], "3")

        (status, fields, body) = try await crm.request("GET", "/faults/gzip-bomb")
        XCTAssertEqual(status, 200)
        XCTAssertEqual(fields["content-encoding"], "gzip")
        let length = try XCTUnwrap(fields["content-length"].flatMap { Int($0) })
        XCTAssertLessThan(length, 16 * 1024)
        // URLSession may or may not inflate; either way the bytes are the 10 KiB bomb or its 10 MiB of zeros.
        XCTAssertTrue(body.count == length || body.count == 10 * 1024 * 1024, "\(body.count)")

        (status, _, body) = try await crm.request("GET", "/faults/bad-json")
        XCTAssertEqual(status, 200)
        XCTAssertThrowsError(try crmJSON(body))

        (status, _, _) = try await crm.request(
            "POST", "/_control/faults", body: Data(#"{"fail_next":1,"fail_status":503,"retry_after":2}"#.utf8))
        XCTAssertEqual(status, 200)
        (status, fields, body) = try await crm.request("GET", "/api/v1/accounts/acc-0001", headers: apiKey)
        XCTAssertEqual(status, 503)
        XCTAssertEqual(fields["retry-after"], "2")
        (status, _, _) = try await crm.request("GET", "/api/v1/accounts/acc-0001", headers: apiKey)
        XCTAssertEqual(status, 200, "only the next request fails")

        let started = Date()
        (status, _, body) = try await crm.request("GET", "/faults/slow-body?bytes=10&rate=20")
        XCTAssertEqual(status, 200)
        XCTAssertEqual(body.count, 10)
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 0.3)
    }

    func testOpenAPIDocumentIsServedAndMatchesTheConfigCopy() async throws {
        let crm = try crm()
        let (status, _, body) = try await crm.request("GET", "/openapi.json")
        XCTAssertEqual(status, 200)
        let doc = try object(body)
        XCTAssertEqual(doc["openapi"] as? String, "3.0.3")
        let paths = try XCTUnwrap(doc["paths"] as? [String: [String: Any]])
        let operationIDs = paths.values.flatMap { $0.values.compactMap { ($0 as? [String: Any])?["operationId"] as? String } }
        XCTAssertEqual(
            Set(operationIDs),
            ["listAccounts", "getAccount", "createAccount", "listAccountContacts", "listOpportunities", "updateOpportunity"])
        let schemes = try XCTUnwrap((doc["components"] as? [String: Any])?["securitySchemes"] as? [String: Any])
        XCTAssertTrue(Set(schemes.keys).isSuperset(of: ["bearer", "basic", "apiKey"]))

        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let copy = try Data(contentsOf: repo.appendingPathComponent("config/crm/openapi.json"))
        XCTAssertEqual(copy, body, "regenerate with: crm-demo --print-openapi > config/crm/openapi.json")
    }
}
