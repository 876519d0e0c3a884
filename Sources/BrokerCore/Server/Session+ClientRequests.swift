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
            return .string(outboundPrefix + String(s.nextOutbound))
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
    /// - Returns: whether a request of this session was waiting for it.
    @discardableResult
    public func receive(_ response: RPCResponse) -> Bool {
        guard let id = response.id else { return false }
        if let result = response.result { return finishOutbound(id, .result(result)) }
        return finishOutbound(id, .error(response.error ?? .null))
    }

    /// Whether a server-to-client request with `id` is waiting for its answer here.
    public func isAwaiting(_ id: RequestID) -> Bool { state.withLock { $0.outbound[id] != nil } }

    /// The replica that sent the server-to-client request `id` (`broker-<replicaID>-<n>`), or `nil` for an id
    /// without one (a broker on its own, or not ours).
    public static func replica(ofOutbound id: RequestID) -> String? {
        guard case .string(let text) = id, text.hasPrefix("broker-") else { return nil }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].count == 16, parts[1].allSatisfy(\.isHexDigit), parts[2].allSatisfy(\.isASCII), Int(parts[2]) != nil else {
            return nil
        }
        return String(parts[1])
    }

    @discardableResult
    private func finishOutbound(_ id: RequestID, _ reply: ClientReply) -> Bool {
        guard let waiter = state.withLock({ $0.outbound.removeValue(forKey: id) }) else { return false }
        waiter.resume(returning: reply)
        return true
    }
}
