// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import MCPCore
import NIOCore
import Synchronization

/// Load shedding and request-rate limits at the HTTP front door, before a body is read: every refusal costs a
/// counter update and a small fixed response.
final class FrontDoor: Sendable {
    let limits: ServerLimits
    private let inFlight = Atomic<Int>(0)
    private let principalLimiter: KeyedRateLimiter?
    private let memory: MemoryGauge?
    /// Counts refusals by status and reason.
    private let metrics: BrokerMetrics
    private let tenants: TenantLabels

    init(limits: ServerLimits, metrics: BrokerMetrics = .disabled, tenants: TenantLabels = TenantLabels([])) {
        self.limits = limits
        self.metrics = metrics
        self.tenants = tenants
        // Deliberately local, also with a shared store (server.shared_state): this check runs before the body is read,
        // for every request including unauthenticated floods, so a store round trip here would turn each cheap
        // refusal into store load (a DoS amplifier). Each replica enforces http_rate for the requests it receives; the
        // global limits are the tenant and backend ones, checked per tool call.
        self.principalLimiter = limits.httpRate.map { KeyedRateLimiter(limit: $0) }
        self.memory = limits.memoryWatermarkMB.map { MemoryGauge(watermarkBytes: $0 << 20) }
    }

    /// Takes an in-flight slot, or answers 503 when the broker is saturated or over its memory watermark.
    /// Pair a `nil` answer with ``leave()``.
    func enter() -> Response? {
        if let memory, memory.isOverWatermark {
            metrics.recordHTTPRefusal(status: 503, reason: "memory_watermark")
            return Self.refusal(.serviceUnavailable, retryAfter: 1, "the broker is over its memory watermark; retry shortly")
        }
        let now = inFlight.wrappingAdd(1, ordering: .relaxed).newValue
        if now > limits.maxInFlight {
            inFlight.wrappingSubtract(1, ordering: .relaxed)
            metrics.recordHTTPRefusal(status: 503, reason: "max_in_flight")
            return Self.refusal(.serviceUnavailable, retryAfter: 1, "the broker is at its limit of \(limits.maxInFlight) requests in flight; retry shortly")
        }
        return nil
    }

    func leave() { inFlight.wrappingSubtract(1, ordering: .relaxed) }

    /// Requests in flight (for tests and metrics).
    var current: Int { inFlight.load(ordering: .relaxed) }

    /// 429 when the principal sends requests faster than `server.limits.http_rate`.
    func admit(_ principal: Principal) -> Response? {
        guard let principalLimiter, case .limited(let wait) = principalLimiter.acquire(principal.bindingKey) else { return nil }
        metrics.recordHTTPRefusal(status: 429, reason: "http_rate")
        metrics.recordRateLimited(.principal, tenant: tenants(principal.tenant))
        // Clamped: the wait comes from configured rates, and a day is already more than any client will honour.
        let seconds = max(1, Int(min(wait.seconds, 86_400).rounded(.up)))  // trap-ok: clamped; a limiter wait is finite
        return Self.refusal(.tooManyRequests, retryAfter: seconds, "too many requests; retry after \(seconds) s")
    }

    static func refusal(_ status: HTTPResponse.Status, retryAfter: Int, _ message: String) -> Response {
        var r = MCPEndpoint.error(status, RPCError(code: -32000, message: message))
        r.headers[.retryAfter] = String(retryAfter)
        return r
    }

    /// Gzips a JSON body at least `gzipMinBytes` long when the client accepts it.
    func compress(_ bytes: [UInt8], request: Request, headers: inout HTTPFields) -> ByteBuffer {
        var buffer = ByteBuffer(bytes: bytes)
        guard let minimum = limits.gzipMinBytes, bytes.count >= minimum,
            let accept = request.headers.value(.acceptEncoding), Self.acceptsGzip(accept)
        else { return buffer }
        guard let compressed = try? buffer.compress(with: .gzip) else { return ByteBuffer(bytes: bytes) }
        headers[.contentEncoding] = "gzip"
        headers[.vary] = "Accept-Encoding"
        return compressed
    }

    static func acceptsGzip(_ header: String) -> Bool {
        header.lowercased().split(separator: ",").contains { part in
            let fields = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.first == "gzip" || fields.first == "*" else { return false }
            return !fields.dropFirst().contains { $0.replacingOccurrences(of: " ", with: "") == "q=0" }
        }
    }
}

/// Resident memory from /proc/self/statm, read at most every 250 ms so the check stays off the hot path.
final class MemoryGauge: Sendable {
    let watermarkBytes: Int
    private let state = Mutex<(checked: ContinuousClock.Instant, over: Bool)>((.now - .seconds(1), false))
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    init(watermarkBytes: Int) { self.watermarkBytes = watermarkBytes }

    var isOverWatermark: Bool {
        let now = ContinuousClock.now
        if let cached = state.withLock({ now - $0.checked < .milliseconds(250) ? $0.over : nil }) { return cached }
        let over = (Self.residentBytes() ?? 0) > watermarkBytes
        state.withLock { $0 = (now, over) }
        return over
    }

    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .ascii) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * pageSize
    }
}
