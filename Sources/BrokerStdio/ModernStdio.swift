// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore
import Synchronization

/// Which revision a stdio connection speaks. Decided by its first request (spec 2.3): an envelope on anything but
/// `initialize` opens a 2026-07-28 connection; anything else a handshake-era one. The other era is refused after.
enum StdioEra {
    case undecided, legacy, modern

    /// The era a connection's first request chooses.
    static func chosen(by request: RPCRequest) -> StdioEra {
        RequestEnvelope.marksModern(request) ? .modern : .legacy
    }
}

/// The 2026-07-28 requests of one stdio connection that a `notifications/cancelled` may name: calls (each with its
/// own throw-away ``Session``) and `subscriptions/listen` streams, which only cancellation ends.
final class ModernStdioRequests: Sendable {
    private struct State {
        var calls: [RequestID: Session] = [:]
        var listens: [RequestID: ListenSubscription] = [:]
    }

    private let state = Mutex(State())

    func began(_ id: RequestID, _ session: Session) { state.withLock { $0.calls[id] = session } }
    func ended(_ id: RequestID) { _ = state.withLock { $0.calls.removeValue(forKey: id) } }
    /// Most listen streams one connection may hold open (each is a hub subscription; a client needs one or two).
    static let maxListens = 64

    /// Whether another listen stream may open.
    var mayListen: Bool { state.withLock { $0.listens.count < Self.maxListens } }

    func listening(_ subscription: ListenSubscription) { state.withLock { $0.listens[subscription.id] = subscription } }

    /// Cancels the call or ends the listen stream with this id; unknown ids are ignored (races are normal).
    func cancel(_ id: RequestID) {
        let (call, listen) = state.withLock { s in (s.calls[id], s.listens.removeValue(forKey: id)) }
        call?.cancel(id)
        listen?.close()
    }

    /// Ends every listen stream (the input closed).
    func closeAll() {
        let listens = state.withLock { s in
            defer { s.listens = [:] }
            return Array(s.listens.values)
        }
        for l in listens { l.close() }
    }
}

extension StdioTransport {
    /// Serves one request of a 2026-07-28 connection; `run` adds the returned work to its task group.
    func serveModern(
        _ request: RPCRequest, lease: GenerationLease, principal: Principal, requests: ModernStdioRequests, writer: LineWriter
    ) -> (@Sendable () async -> Void)? {
        if request.method == "initialize" {
            lease.end()
            writer.send(RPCEncoding.error(id: request.id, .unsupportedProtocolVersion(request.params?["protocolVersion"]?.stringValue ?? "", supported: ProtocolVersion.modern)))
            return nil
        }
        let envelope: RequestEnvelope
        switch RequestEnvelope.parse(request.params) {
        case .success(let e): envelope = e
        case .failure(let error):
            lease.end()
            writer.send(RPCEncoding.error(id: request.id, error))
            return nil
        }
        if request.method == "subscriptions/listen" {
            lease.end()
            guard requests.mayListen else {
                writer.send(
                    RPCEncoding.error(
                        id: request.id,
                        RPCError(code: -32000, message: "Too many open subscriptions/listen streams (limit \(ModernStdioRequests.maxListens)); cancel one first.")))
                return nil
            }
            let fixed = fixedPrincipal
            let opened = ListenSubscription.open(request, hub: live.hub, principal: { fixed ?? $0.new.settings.stdioPrincipal }) { writer.send($0) }
            switch opened {
            case .success(let s): requests.listening(s)
            case .failure(let error): writer.send(RPCEncoding.error(id: request.id, error))
            }
            return nil
        }
        let session = Session(modern: envelope, ownerID: principal.bindingKey, transport: .pipe)
        requests.began(request.id, session)
        // Started (and registered for cancellation) here, in read order, before the next line.
        let task = lease.server.start(request, session: session, principal: principal) { bytes in writer.send(bytes) }
        return {
            defer {
                requests.ended(request.id)
                lease.end()
            }
            if let reply = await task.value { writer.send(reply.bytes) }
        }
    }
}
