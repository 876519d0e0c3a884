// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import HTTPTypes
import Hummingbird
import MCPCore
import NIOCore
import Synchronization
import Tracing

/// The 2026-07-28 side of the endpoint: one self-contained POST per request, no session, no GET stream.
///
/// Reached once the common front (origin, shedding, authentication, media types, body cap, JSON parse) has passed
/// and the `MCP-Protocol-Version` header names a non-handshake version. The request's envelope becomes a
/// throw-away ``Session`` that nothing else can see, so no state leaks from one request to the next.
extension MCPEndpoint {
    /// How long a call may stay silent before its answer turns into SSE with keep-alive comments.
    static let ssePatience: Duration = .seconds(15)

    /// Answers one 2026-07-28 message; `streaming` says the response body outlives the call (it then ends the lease).
    func postModern(_ message: RPCMessage, request: Request, accept: String, lease: GenerationLease, principal: Principal) async -> (Response, streaming: Bool) {
        let rpc: RPCRequest
        switch message {
        case .notification:
            // No client notification means anything on this wire (cancelling is closing the stream); accepted and dropped.
            let version = request.headers.value(MCPHeader.protocolVersion) ?? ""
            guard ProtocolVersion.modern.contains(version) else { return (ModernRouting.error(.unsupportedProtocolVersion(version), id: nil), false) }
            return (Response(status: .accepted), false)
        case .response:
            return (ModernRouting.error(.invalidRequest("a 2026-07-28 server sends no requests, so there is nothing to respond to"), id: nil), false)
        case .request(let r):
            rpc = r
        }
        let envelope: RequestEnvelope
        switch ModernRouting.check(rpc, headers: request.headers) {
        case .success(let e): envelope = e
        case .failure(let error): return (ModernRouting.error(error, id: rpc.id), false)
        }
        let server = lease.server
        let session = Session(modern: envelope, ownerID: principal.bindingKey, transport: .tcp)
        let trace = TraceContextExtraction.context(request.headers)
        let acceptsStream = HeaderMatch.contains(accept, "text/event-stream") || HeaderMatch.contains(accept, "*/*")
        if rpc.method == "subscriptions/listen" {
            guard acceptsStream else { return (Self.error(.notAcceptable, .invalidRequest("subscriptions/listen answers as SSE: Accept must include text/event-stream")), false) }
            return listen(rpc, lease: lease, principal: principal)
        }
        if acceptsStream, server.needsStream(rpc, session: session, principal: principal) {
            let response = await ServiceContext.$current.withValue(trace) {
                await deferred(rpc, request: request, lease: lease, session: session, principal: principal)
            }
            return (response, true)
        }
        let reply = await ServiceContext.$current.withValue(trace) { await server.processReply(message, session: session, principal: principal, notify: nil) }
        guard let reply else { return (Response(status: .accepted), false) }
        var headers: HTTPFields = [.contentType: "application/json"]
        let body = frontDoor.compress(reply.bytes, request: request, headers: &headers)
        return (Response(status: ModernRouting.status(for: reply.errorCode), headers: headers, body: ResponseBody(byteBuffer: body)), false)
    }

    /// Runs a call that may notify: JSON if it answers before its first notification, SSE from that notification on.
    /// Closing the SSE stream cancels the call (2026-07-28: there is no other way to cancel over HTTP). The lease
    /// ends when the call has finished, whichever way it was answered.
    private func deferred(_ rpc: RPCRequest, request: Request, lease: GenerationLease, session: Session, principal: Principal) async -> Response {
        let answer = DeferredAnswer()
        let work = Task {
            defer { lease.end() }
            let reply = await lease.server.processReply(.request(rpc), session: session, principal: principal) { bytes in answer.notify(bytes) }
            answer.finish(reply)
        }
        switch await answer.decide(patience: Self.ssePatience) {
        case .json(let reply):
            guard let reply else { return Response(status: .accepted) }
            var headers: HTTPFields = [.contentType: "application/json"]
            let body = frontDoor.compress(reply.bytes, request: request, headers: &headers)
            return Response(status: ModernRouting.status(for: reply.errorCode), headers: headers, body: ResponseBody(byteBuffer: body))
        case .stream:
            let (events, continuation) = AsyncStream<ByteBuffer>.makeStream()
            let keepAlive = Self.keepAlive(continuation)
            continuation.onTermination = { _ in
                keepAlive.cancel()
                work.cancel()
            }
            answer.attach(continuation)
            return Self.sseResponse(events)
        }
    }

    /// `subscriptions/listen`: an SSE stream that acknowledges, then carries this principal's list changes until the
    /// client closes it; a graceful shutdown ends it with its `complete` result.
    private func listen(_ rpc: RPCRequest, lease: GenerationLease, principal: Principal) -> (Response, streaming: Bool) {
        let (events, continuation) = AsyncStream<ByteBuffer>.makeStream()
        let limits = lease.generation.settings.http
        // The stream does not hold the generation: it lives across reloads, which is its whole point.
        lease.end()
        let box = SubscriptionBox()
        guard let token = listeners.add(owner: principal.bindingKey, limits: limits, { box.finish(continuation) }) else {
            return (
                Self.error(
                    .tooManyRequests,
                    RPCError(
                        code: -32000,
                        message: "Too many open subscriptions/listen streams for your identity (limit \(limits.maxSessionsPerPrincipal)); close one first."),
                    id: rpc.id), false
            )
        }
        let opened = ListenSubscription.open(rpc, hub: live.hub, principal: { _ in principal }) { bytes in continuation.yield(SSE.event(bytes)) }
        let subscription: ListenSubscription
        switch opened {
        case .success(let s): subscription = s
        case .failure(let error):
            listeners.remove(token)
            return (ModernRouting.error(error, id: rpc.id), false)
        }
        box.set(subscription)
        let keepAlive = Self.keepAlive(continuation)
        let table = listeners
        continuation.onTermination = { _ in
            keepAlive.cancel()
            subscription.close()
            table.remove(token)
        }
        return (Self.sseResponse(events), true)
    }

    /// Comment lines every 15 s keep proxies from closing a quiet stream (GET streams, listen, long silent calls).
    static func keepAlive(_ continuation: AsyncStream<ByteBuffer>.Continuation) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(15))
                if case .terminated = continuation.yield(SSE.comment) { return }
            }
        }
    }

    /// A `text/event-stream` answer (both eras), unbuffered by proxies; `headers` adds to it (a session id).
    static func sseResponse(_ events: AsyncStream<ByteBuffer>, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        headers[MCPHeader.accelBuffering] = "no"
        return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: events))
    }
}

/// The subscription behind a listen stream, set once it is open, so the shutdown closer can end the stream with its
/// result whichever came first.
final class SubscriptionBox: Sendable {
    private let subscription = Mutex<ListenSubscription?>(nil)

    func set(_ s: ListenSubscription) { subscription.withLock { $0 = s } }

    /// Ends the stream: with the subscription's `complete` result when it was open.
    func finish(_ continuation: AsyncStream<ByteBuffer>.Continuation) {
        if let s = subscription.withLock({ $0 }) { continuation.yield(SSE.event(s.completion)) }
        continuation.finish()
    }
}

/// The open `subscriptions/listen` streams, so a graceful shutdown can end each with its result instead of
/// waiting on responses that never end, and so one principal cannot hold unbounded streams open: a listen stream
/// counts against the same limits as a session (`max_sessions`, `max_sessions_per_principal`).
final class ListenStreams: Sendable {
    private struct State {
        var next: UInt64 = 0
        var closers: [UInt64: (owner: String, close: @Sendable () -> Void)] = [:]
        var perOwner: [String: Int] = [:]
    }

    private let state = Mutex(State())

    /// Registers a stream of `owner`; `nil` when a limit is reached.
    func add(owner: String, limits: HTTPSettings, _ close: @escaping @Sendable () -> Void) -> UInt64? {
        state.withLock { s in
            let mine = s.perOwner[owner, default: 0]
            guard mine < limits.maxSessionsPerPrincipal, s.closers.count < limits.maxSessions else { return nil }
            s.next += 1
            s.closers[s.next] = (owner, close)
            s.perOwner[owner] = mine + 1
            return s.next
        }
    }

    func remove(_ token: UInt64) {
        state.withLock { s in
            guard let entry = s.closers.removeValue(forKey: token) else { return }
            let left = s.perOwner[entry.owner, default: 1] - 1
            s.perOwner[entry.owner] = left > 0 ? left : nil
        }
    }

    /// Open streams (for tests and metrics).
    var count: Int { state.withLock { $0.closers.count } }

    /// Ends every stream with its `complete` result.
    func closeAll() {
        let all = state.withLock { s in
            defer {
                s.closers = [:]
                s.perOwner = [:]
            }
            return s.closers.values.map(\.close)
        }
        for close in all { close() }
    }
}
