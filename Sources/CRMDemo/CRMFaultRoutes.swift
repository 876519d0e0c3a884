// SPDX-License-Identifier: Apache-2.0

import Foundation
import Hummingbird
import MCPCore

/// `/faults/*` (unauthenticated misbehaviour on demand) and `/_control/*` (API faults, counters).
struct CRMFaults: Sendable {
    /// Flaky counters and API faults live here.
    let store: CRMStore
    /// `/_control` requires this as `X-Control-Key` when set.
    let controlKey: String?

    /// Adds `/faults/*` and `/_control/*` to the router.
    func register(on router: Router<BasicRequestContext>) {
        let faults = router.group("faults")
        faults.get("status/:code") { request, context in
            guard let code = context.parameters.get("code", as: Int.self), (200...599).contains(code) else {
                return CRMHTTP.error(.badRequest, code: "INVALID_PARAMETER", message: "code must be an HTTP status from 200 to 599")
            }
            return Self.failure(code, retryAfter: Self.int(request, "retry_after"))
        }
        faults.get("flaky/:key") { request, context in
            let status = Self.int(request, "status") ?? 503
            let fail = Self.int(request, "fail") ?? 1
            if await store.flakyShouldFail(key: context.parameters.get("key") ?? "", failures: fail), (200...599).contains(status) {
                return Self.failure(status, retryAfter: Self.int(request, "retry_after"))
            }
            return CRMHTTP.json(.ok, ["ok": true, "key": .string(context.parameters.get("key") ?? "")])
        }
        faults.get("slow-body") { request, _ in Self.slowBody(bytes: Self.int(request, "bytes") ?? 1000, rate: Self.int(request, "rate") ?? 10) }
        faults.get("hang") { _, _ in
            // Longer than any sane client timeout; the process exits on SIGTERM without waiting for it.
            try await Task.sleep(for: .seconds(120))
            return CRMHTTP.json(.ok, ["hung_seconds": 120])
        }
        faults.get("gzip-bomb") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json", .contentEncoding: "gzip"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: GzipBomb.bytes)))
        }
        faults.get("redirect") { request, _ in
            guard let target = CRMHTTP.stringQuery(request, "to") else {
                return CRMHTTP.error(.badRequest, code: "INVALID_PARAMETER", message: "to is required")
            }
            return Response(status: .found, headers: [.location: target, .contentLength: "0"])
        }
        faults.get("latency") { request, _ in
            let ms = min(max(Self.int(request, "ms") ?? 0, 0), 120_000)
            try await Task.sleep(for: .milliseconds(ms))
            return CRMHTTP.json(.ok, ["slept_ms": .int(ms)])
        }
        faults.get("bad-json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"data\": [1, 2, {\"id\": \"acc-0001\",")))
        }

        let control = router.group("_control").add(middleware: ControlKeyMiddleware(key: controlKey))
        control.get("stats") { _, _ in CRMHTTP.json(.ok, await store.stats) }
        control.get("faults") { _, _ in CRMHTTP.json(.ok, await store.faults.json) }
        control.post("faults") { request, _ in
            guard let object = (try? JSONParser.parse(try await CRMHTTP.body(request)))?.objectValue else {
                return CRMHTTP.error(.badRequest, code: "INVALID_JSON", message: "The request body must be a JSON object.")
            }
            var faults = APIFaults()
            faults.latencyMs = Int(clamping: object["latency_ms"]?.intValue ?? 0)
            faults.failNext = Int(clamping: object["fail_next"]?.intValue ?? 0)
            faults.failStatus = Int(clamping: object["fail_status"]?.intValue ?? 503)
            faults.retryAfter = Int(clamping: object["retry_after"]?.intValue ?? 0)
            guard (0...120_000).contains(faults.latencyMs), faults.failNext >= 0, (400...599).contains(faults.failStatus), faults.retryAfter >= 0
            else {
                return CRMHTTP.error(.unprocessableContent, code: "VALIDATION_FAILED", message: "latency_ms 0…120000, fail_next ≥ 0, fail_status 400…599")
            }
            await store.setFaults(faults)
            return CRMHTTP.json(.ok, faults.json)
        }
        control.post("reset") { _, _ in
            await store.reset()
            return CRMHTTP.json(.ok, ["reset": true])
        }
    }

    private static func int(_ request: Request, _ name: String) -> Int? { CRMHTTP.stringQuery(request, name).flatMap { Int($0) } }

    private static func failure(_ code: Int, retryAfter: Int?) -> Response {
        var headers = HTTPFields()
        if let retryAfter, retryAfter >= 0 { headers[.retryAfter] = String(retryAfter) }
        let status = HTTPResponse.Status(code: code)
        return CRMHTTP.error(status, code: "FAULT_\(code)", message: "Fault injected: HTTP \(code).", headers: headers)
    }

    /// Drips `bytes` bytes of `x` at about `rate` bytes per second (in 100 ms ticks).
    private static func slowBody(bytes: Int, rate: Int) -> Response {
        let total = min(max(bytes, 0), 10_000_000), perSecond = min(max(rate, 1), 10_000_000)
        let perTick = max(1, perSecond / 10)
        let tick = Duration.milliseconds(max(100, 1000 * perTick / perSecond))
        let body = ResponseBody(contentLength: total) { writer in
            var sent = 0
            while sent < total {
                let n = min(perTick, total - sent)
                try await writer.write(ByteBuffer(repeating: UInt8(ascii: "x"), count: n))
                sent += n
                if sent < total { try await Task.sleep(for: tick) }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain"], body: body)
    }
}

/// Counts every request by method and route template, for `GET /_control/stats`.
struct StatsMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Where the counters live.
    let store: CRMStore

    /// Counts, then passes the request on.
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let route = context.endpointPath ?? request.uri.path
        await store.count(route: "\(request.method.rawValue) \(route)")
        return try await next(request, context)
    }
}

/// Requires `X-Control-Key` on `/_control` when a control key is configured.
struct ControlKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The required key, or `nil` for open access.
    let key: String?

    /// Refuses the request with 401 unless the key matches.
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let key, !CRMHTTP.constantTimeEquals(CRMHTTP.header(request, "x-control-key") ?? "", key) {
            return CRMHTTP.error(.unauthorized, code: "UNAUTHORIZED", message: "X-Control-Key is missing or wrong.")
        }
        return try await next(request, context)
    }
}
