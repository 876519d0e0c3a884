// SPDX-License-Identifier: Apache-2.0

import MCPCore
import Synchronization

/// How a server-to-client request ended.
public enum ClientReply: Sendable, Equatable {
    case result(JSONValue)
    case error(JSONValue)
    /// No answer before the call's deadline.
    case timedOut
    /// The call was cancelled or the session ended while waiting.
    case cancelled
}

extension Session {
    /// Sends a request to the client (`elicitation/create`) and waits for its answer, the deadline or
    /// cancellation, whichever comes first.
    /// - Parameters:
    ///   - send: delivers the encoded request on the stream of the call that needs it.
    func request(_ method: String, params: [String: JSONValue], send: @escaping OutboundSink, until deadline: ContinuousClock.Instant) async -> ClientReply {
        let id: RequestID = state.withLock { s in
            s.nextOutbound += 1
            return .string("broker-\(s.nextOutbound)")
        }
        // The shared watchdog rather than a sleeping task, whose timer would outlive an early answer.
        let token = DeadlineWatch.shared.register(deadline) { [weak self] in self?.finishOutbound(id, .timedOut) }
        defer { DeadlineWatch.shared.unregister(token) }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<ClientReply, Never>) in
                state.withLock { $0.outbound[id] = c }
                Task { await send(RPCEncoding.request(RPCRequest(id: id, method: method, params: params))) }
            }
        } onCancel: {
            finishOutbound(id, .cancelled)
        }
    }

    /// Delivers a client's response; unknown ids (late, duplicated or forged answers) are ignored.
    func receive(_ response: RPCResponse) {
        guard let id = response.id else { return }
        if let result = response.result {
            finishOutbound(id, .result(result))
        } else {
            finishOutbound(id, .error(response.error ?? .null))
        }
    }

    private func finishOutbound(_ id: RequestID, _ reply: ClientReply) {
        let waiter = state.withLock { $0.outbound.removeValue(forKey: id) }
        waiter?.resume(returning: reply)
    }
}
