// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore

extension RESTOperation {
    /// Whether the caller supplies an idempotency key, which makes a non-idempotent method safe to retry.
    var hasIdempotencyKey: Bool { parameters.contains { $0.location == .header && $0.name.lowercased() == "idempotency-key" } }
}

extension RESTBackend {
    /// Statuses worth retrying for an idempotent call.
    static let retryStatuses: Set<Int> = [429, 502, 503, 504]

    /// One logical request: attempts with backoff, the deadline bounding every attempt, errors mapped.
    func send(
        _ op: RESTOperation, path: String, query: [(String, String)], headers: [(String, String)], body: JSONValue?,
        auth: RESTAuth, arguments: [String: JSONValue], context: CallContext
    ) async throws -> CurlResponse {
        let address = try await addressGuard.resolve(host: configuration.host, backend: name)
        let retrySafe = op.readOnly || ["PUT", "DELETE"].contains(op.method) || (op.hasIdempotencyKey && headers.contains { $0.0.lowercased() == "idempotency-key" })
        let attempts = retrySafe ? configuration.maxAttempts : 1
        var attempt = 0
        var tokenRefreshed = false
        // A retry holds a permit from the broker-wide retry budget until its attempt completes.
        var holdsRetryPermit = false
        defer { if holdsRetryPermit { context.retryFinished() } }
        while true {
            attempt += 1
            try context.checkAlive()
            var requestHeaders = headers
            var requestQuery = query
            try await credentials.apply(auth, headers: &requestHeaders, query: &requestQuery) { a in try await self.token(a, address: address, context: context) }
            if body != nil { requestHeaders.append(("Content-Type", "application/json")) }
            requestHeaders.append(("Accept", "application/json"))
            var request = CurlRequest(
                method: op.method, url: url(path: path, query: requestQuery), headers: requestHeaders, body: body.map { JSONWriter.encode($0) })
            request.connectTimeout = min(configuration.connectTimeout, context.remaining)
            request.timeout = min(configuration.timeout, context.remaining)
            request.lowSpeedLimit = configuration.lowSpeedLimit
            request.lowSpeedTime = configuration.lowSpeedTime
            request.maxBodyBytes = configuration.maxBodyBytes
            request.pinnedAddress = address
            request.allowedProtocols = configuration.isInternal ? "http,https" : "https"
            try applyTLS(&request)
            let outcome: Result<CurlResponse, CurlError>
            do { outcome = .success(try await tracedPerform(request, template: configuration.pathPrefix + op.pathTemplate)) } catch { outcome = .failure(error) }
            if holdsRetryPermit {
                context.retryFinished()
                holdsRetryPermit = false
            }
            switch outcome {
            case .failure(let e):
                let transient = [.connectFailed, .timeout, .lowSpeed, .couldNotResolve].contains(e.kind)
                if transient, attempt < attempts, let delay = backoff(attempt: attempt, retryAfter: nil, context: context), mayRetry(context) {
                    holdsRetryPermit = true
                    context.logger.notice("REST attempt failed; retrying", metadata: ["attempt": "\(attempt)", "error": .string(e.description)])
                    try await context.sleep(for: delay)
                    continue
                }
                context.logger.notice("REST call failed", metadata: ["attempts": "\(attempt)", "error": .string(e.description)])
                throw map(e)
            case .success(let response):
                metrics.restRequest(newConnection: response.newConnection)
                if response.status == 401, case .oauth2 = auth, !tokenRefreshed {
                    credentials.invalidate(tokenKey(auth, tenant: context.principal.tenant))
                    tokenRefreshed = true
                    attempt -= 1
                    continue
                }
                if Self.retryStatuses.contains(response.status), attempt < attempts {
                    let retryAfter = Self.retryAfter(response)
                    if let delay = backoff(attempt: attempt, retryAfter: retryAfter, context: context), mayRetry(context) {
                        holdsRetryPermit = true
                        context.logger.notice("REST attempt got \(response.status); retrying", metadata: ["attempt": "\(attempt)", "delay_ms": "\(delay.wholeMilliseconds)"])
                        try await context.sleep(for: delay)
                        continue
                    }
                }
                context.logger.info("REST call", metadata: ["attempts": "\(attempt)", "status": "\(response.status)", "method": .string(op.method)])
                if (300..<400).contains(response.status) {
                    throw BrokerError(.backendError, "The \(name) service redirected the request; redirects are not followed.", backend: name, detail: "status \(response.status)")
                }
                if response.status >= 400 { throw statusError(response, op: op, arguments: arguments) }
                return response
            }
        }
    }

    /// Whether the broker-wide retry budget allows one more retry (logged when it does not).
    func mayRetry(_ context: CallContext) -> Bool {
        if context.mayRetry() { return true }
        context.logger.notice("retry budget exhausted; not retrying", metadata: ["backend": .string(name)])
        return false
    }

    func url(path: String, query: [(String, String)]) -> String {
        let defaultPort = configuration.scheme == "https" ? 443 : 80
        let hostPart = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        var s = "\(configuration.scheme)://\(hostPart)" + (configuration.port == defaultPort ? "" : ":\(configuration.port)") + configuration.pathPrefix + path
        if !query.isEmpty { s += "?" + RESTOperation.encodeQuery(query) }
        return s
    }

    /// Full-jitter exponential backoff, or the server's Retry-After when it fits the deadline; nil = give up.
    func backoff(attempt: Int, retryAfter: Duration?, context: CallContext) -> Duration? {
        if let retryAfter {
            return retryAfter < context.remaining ? retryAfter : nil
        }
        let cap = min(configuration.maxDelay, configuration.baseDelay * (1 << min(attempt - 1, 20)))
        let delay = Duration.milliseconds(Int64.random(in: 0...max(0, cap.wholeMilliseconds)))
        return delay < context.remaining ? delay : nil
    }

    static func retryAfter(_ r: CurlResponse) -> Duration? {
        guard let v = r.headers.first(where: { $0.0 == "retry-after" })?.1.trimmingCharacters(in: .whitespaces), let s = Int(v), s >= 0 else { return nil }
        return .seconds(s)
    }

    func applyTLS(_ request: inout CurlRequest) throws(BrokerError) {
        if let cert = configuration.clientCertificate, let key = configuration.clientKey {
            request.clientCertificatePEM = try credentials.secret(cert).withValue { $0 }
            request.clientKeyPEM = try credentials.secret(key).withValue { $0 }
        }
        request.caBundlePath = configuration.caFile
    }

    func map(_ e: CurlError) -> BrokerError {
        switch e.kind {
        case .timeout, .lowSpeed:
            return BrokerError(.timeout, "The \(name) service did not answer in time; try again or narrow the request.", retriable: true, backend: name, detail: e.description)
        case .bodyTooLarge:
            return BrokerError(.backendError, "The \(name) response is larger than the configured limit; narrow the request.", backend: name, detail: e.description)
        case .tls:
            return BrokerError(.backendCredentialsRejected, "The TLS handshake with \(name) failed; an administrator must check its certificates.", backend: name, detail: e.description)
        case .cancelled: return .cancelled
        case .protocolRefused, .redirectNotFollowed:
            return BrokerError(.forbidden, "The request to \(name) was refused by the broker's network policy.", backend: name, detail: e.description)
        default:
            return BrokerError.unavailable("The \(name) service is not reachable right now; try again shortly.", backend: name, detail: e.description)
        }
    }

    /// A business message for an error status: per-tool override, per-backend override, then a default.
    func statusError(_ r: CurlResponse, op: RESTOperation, arguments: [String: JSONValue]) -> BrokerError {
        let custom = op.errorMessage(status: r.status, arguments: arguments) ?? configuration.errorMessages[r.status].map { RESTOperation.fillPlaceholders($0, arguments) }
        let detail = "status \(r.status)"
        switch r.status {
        case 401:
            return BrokerError(.backendCredentialsRejected, custom ?? "The \(name) service rejected the broker's credentials; an administrator must check backends.\(name).auth.", backend: name, detail: detail)
        case 403: return BrokerError(.forbidden, custom ?? "The \(name) service does not allow this request.", backend: name, detail: detail)
        case 404: return BrokerError(.notFound, custom ?? "The requested item was not found in \(name).", backend: name, detail: detail)
        case 409: return BrokerError(.conflict, custom ?? "The \(name) service reported a conflict with the current state.", backend: name, detail: detail)
        case 400, 422: return BrokerError(.invalidArguments, custom ?? "The \(name) service rejected the request as invalid; check the arguments.", backend: name, detail: detail)
        case 429:
            return BrokerError(.rateLimited, custom ?? "The \(name) service is rate limiting requests; retry later.", retriable: true, backend: name,
                               retryAfterSeconds: Self.retryAfter(r).map { Double($0.components.seconds) }, detail: detail)
        case 500...599: return BrokerError.unavailable(custom ?? "The \(name) service is failing right now; try again shortly.", backend: name, detail: detail)
        default: return BrokerError(.backendError, custom ?? "The \(name) service answered with status \(r.status).", backend: name, detail: detail)
        }
    }
}
