// SPDX-License-Identifier: Apache-2.0

import Foundation
import XCTest

@testable import BrokerBackendREST

final class CurlClientTests: XCTestCase {
    private var server: CurlTestServer?
    private var client: CurlClient?

    override func setUpWithError() throws {
        server = try CurlTestServer()
        client = CurlClient(name: "test")
    }

    override func tearDown() {
        client?.shutdown()
        server?.stop()
    }

    private func request(_ path: String, method: String = "GET") throws -> CurlRequest {
        CurlRequest(method: method, url: try XCTUnwrap(server).url(path))
    }

    private func perform(_ request: CurlRequest) async throws -> CurlResponse {
        try await XCTUnwrap(client).perform(request)
    }

    /// Runs `request`, expects a CurlError, returns it and the elapsed time.
    private func failure(_ request: CurlRequest) async throws -> (CurlError, Duration) {
        let started = ContinuousClock.now
        do {
            let response = try await XCTUnwrap(client).perform(request)
            XCTFail("expected an error, got status \(response.status)")
            throw CurlError(kind: .other, curlCode: 0, detail: "unexpected success")
        } catch let error as CurlError {
            return (error, ContinuousClock.now - started)
        }
    }

    private func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    func testGetJSONWithHeadersLowercasedInOrder() async throws {
        let response = try await perform(request("/ok"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), #"{"ok":true}"#)
        XCTAssertEqual(response.header("Content-Type"), "application/json")
        XCTAssertEqual(response.headers.filter { $0.0 == "x-dup" }.map(\.1), ["one", "two"])
        XCTAssertTrue(response.headers.allSatisfy { $0.0 == $0.0.lowercased() })
        XCTAssertEqual(response.httpVersion, 11)
        XCTAssertGreaterThan(response.totalTime, .zero)
    }

    func testEchoSendsMethodHeadersAndBodyAsGiven() async throws {
        var post = try request("/echo?x=1", method: "PATCH")
        post.headers = [("X-Trace", "abc"), ("Content-Type", "application/json")]
        post.body = Array(#"{"a":1}"#.utf8)
        let echoed = try json(try await perform(post).body)
        XCTAssertEqual(echoed["method"] as? String, "PATCH")
        XCTAssertEqual(echoed["path"] as? String, "/echo?x=1")
        XCTAssertEqual(echoed["body"] as? String, #"{"a":1}"#)
        let headers = try XCTUnwrap(echoed["headers"] as? [[String]])
        XCTAssertTrue(headers.contains(["X-Trace", "abc"]))
        XCTAssertTrue(headers.contains(["Content-Type", "application/json"]))
        XCTAssertFalse(headers.contains { $0.first?.lowercased() == "expect" })

        let empty = try json(try await perform(request("/echo", method: "POST")).body)
        XCTAssertEqual(empty["method"] as? String, "POST")
        let emptyHeaders = try XCTUnwrap(empty["headers"] as? [[String]])
        XCTAssertTrue(emptyHeaders.contains(["Content-Length", "0"]))
        XCTAssertFalse(emptyHeaders.contains { $0.first?.lowercased() == "content-type" }, "no form content type added")

        let delete = try json(try await perform(request("/echo", method: "DELETE")).body)
        XCTAssertEqual(delete["method"] as? String, "DELETE")
    }

    func testConnectionIsReusedAcrossSequentialRequests() async throws {
        let first = try json(try await perform(request("/echo")).body)
        let second = try json(try await perform(request("/echo")).body)
        XCTAssertNotNil(first["peerPort"] as? Int)
        XCTAssertEqual(first["peerPort"] as? Int, second["peerPort"] as? Int)
    }

    func testInterimResponseHeadersAreDropped() async throws {
        let response = try await perform(request("/early-hints"))
        XCTAssertEqual(response.status, 200)
        XCTAssertNil(response.header("link"))
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), #"{"final":true}"#)
    }

    func testRedirectIsReturnedNotFollowed() async throws {
        let response = try await perform(request("/redirect"))
        XCTAssertEqual(response.status, 302)
        XCTAssertEqual(response.header("location"), "http://169.254.169.254/")
    }

    func testBigBodyWithinCapAndOverCap() async throws {
        let response = try await perform(request("/big"))
        XCTAssertEqual(response.body.count, 2 << 20)
        var capped = try request("/big")
        capped.maxBodyBytes = 1 << 20
        let (error, _) = try await failure(capped)
        XCTAssertEqual(error.kind, .bodyTooLarge)
    }

    func testGzipIsDecoded() async throws {
        let response = try await perform(request("/gzip"))
        XCTAssertEqual(try json(response.body)["compressed"] as? Bool, true)
    }

    func testGzipBombStopsAtDecodedCap() async throws {
        var bomb = try request("/gzip-bomb")
        bomb.maxBodyBytes = 1 << 20
        let (error, _) = try await failure(bomb)
        XCTAssertEqual(error.kind, .bodyTooLarge, error.description)
    }

    func testLowSpeedAbort() async throws {
        var slow = try request("/slow")
        slow.lowSpeedLimit = 100
        slow.lowSpeedTime = .seconds(1)
        let (error, elapsed) = try await failure(slow)
        XCTAssertEqual(error.kind, .lowSpeed, error.description)
        XCTAssertLessThan(elapsed, .milliseconds(2500))
    }

    func testTimeout() async throws {
        var hang = try request("/hang")
        hang.timeout = .milliseconds(500)
        let (error, elapsed) = try await failure(hang)
        XCTAssertEqual(error.kind, .timeout, error.description)
        XCTAssertLessThan(elapsed, .milliseconds(1500))
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(450))
    }

    func testCancellationReturnsPromptly() async throws {
        let client = try XCTUnwrap(self.client)
        let hang = try request("/hang")
        let task = Task { () async -> (CurlError.Kind?, ContinuousClock.Instant) in
            do throws(CurlError) {
                _ = try await client.perform(hang)
                return (nil, .now)
            } catch {
                return (error.kind, .now)
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let cancelledAt = ContinuousClock.now
        task.cancel()
        let (kind, finishedAt) = await task.value
        XCTAssertEqual(kind, .cancelled)
        XCTAssertLessThan(finishedAt - cancelledAt, .seconds(1))

        // The client keeps working after a cancellation.
        let after = try await perform(request("/ok"))
        XCTAssertEqual(after.status, 200)
    }

    func testAlreadyCancelledTaskFailsWithoutSending() async throws {
        let client = try XCTUnwrap(self.client)
        let ok = try request("/ok")
        let task = Task { () async -> CurlError.Kind? in
            withUnsafeCurrentTask { $0?.cancel() }
            do throws(CurlError) {
                _ = try await client.perform(ok)
                return nil
            } catch {
                return error.kind
            }
        }
        let kind = await task.value
        XCTAssertEqual(kind, .cancelled)
    }

    func testPinnedAddressReachesLoopbackForUnresolvableName() async throws {
        let port = try XCTUnwrap(server).port
        var pinned = CurlRequest(method: "GET", url: "http://crm.test:\(port)/echo")
        pinned.pinnedAddress = "127.0.0.1"
        let response = try await perform(pinned)
        XCTAssertEqual(response.status, 200)
        let headers = try XCTUnwrap(try json(response.body)["headers"] as? [[String]])
        XCTAssertTrue(headers.contains(["Host", "crm.test:\(port)"]))
    }

    func testFiftyConcurrentRequests() async throws {
        let client = try XCTUnwrap(self.client)
        let ok = try request("/ok")
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<50 { group.addTask { try await client.perform(ok).status } }
            var collected: [Int] = []
            for try await status in group { collected.append(status) }
            return collected
        }
        XCTAssertEqual(statuses, Array(repeating: 200, count: 50))
    }

    func testRefusedProtocolsConnectFailureAndBadHeaders() async throws {
        let (ftp, _) = try await failure(CurlRequest(method: "GET", url: "ftp://127.0.0.1/x"))
        XCTAssertEqual(ftp.kind, .protocolRefused)
        let (file, _) = try await failure(CurlRequest(method: "GET", url: "file:///etc/passwd"))
        XCTAssertEqual(file.kind, .protocolRefused)
        var httpsOnly = try request("/ok")
        httpsOnly.allowedProtocols = "https"
        let (plain, _) = try await failure(httpsOnly)
        XCTAssertEqual(plain.kind, .protocolRefused)

        let (refused, _) = try await failure(CurlRequest(method: "GET", url: "http://127.0.0.1:1/"))
        XCTAssertEqual(refused.kind, .connectFailed, refused.description)

        var injected = try request("/ok")
        injected.headers = [("X-A", "b\r\nX-Evil: 1")]
        let (header, _) = try await failure(injected)
        XCTAssertEqual(header.kind, .other)
        let (method, _) = try await failure(try request("/ok", method: "GET /x HTTP/1.1\r\nX:"))
        XCTAssertEqual(method.kind, .other)
    }

    func testShutdownFailsLaterRequests() async throws {
        let client = try XCTUnwrap(self.client)
        client.shutdown()
        let (error, elapsed) = try await failure(try request("/ok"))
        XCTAssertEqual(error.kind, .cancelled)
        XCTAssertLessThan(elapsed, .seconds(1))
    }
}
