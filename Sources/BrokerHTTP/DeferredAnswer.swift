// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import NIOCore
import Synchronization

/// A 2026-07-28 answer held back until it is clear whether it needs a stream: the first notification (progress, a
/// log line) turns the POST into SSE; an answer that comes first goes out as plain JSON with its status (the spec's
/// 400/404 MUSTs then hold even for calls that asked for progress); a call silent for `patience` turns into SSE so
/// keep-alive comments can hold the connection open behind proxies.
final class DeferredAnswer: Sendable {
    enum Decision: Sendable {
        case json(ServerReply?)
        case stream
    }

    private struct State {
        var decision: Decision?
        var waiter: CheckedContinuation<Decision, Never>?
        /// Events produced before the stream was attached.
        var buffered: [ByteBuffer] = []
        var stream: AsyncStream<ByteBuffer>.Continuation?
        var finished = false
    }

    private let state = Mutex(State())

    /// A notification of the call.
    func notify(_ bytes: [UInt8]) {
        let event = SSE.event(bytes)
        let (stream, waiter): (AsyncStream<ByteBuffer>.Continuation?, CheckedContinuation<Decision, Never>?) = state.withLock { s in
            if let stream = s.stream { return (stream, nil) }
            s.buffered.append(event)
            guard s.decision == nil else { return (nil, nil) }
            s.decision = .stream
            defer { s.waiter = nil }
            return (nil, s.waiter)
        }
        stream?.yield(event)
        waiter?.resume(returning: .stream)
    }

    /// The call's answer (`nil`: cancelled, nothing to send).
    func finish(_ reply: ServerReply?) {
        let (stream, waiter): (AsyncStream<ByteBuffer>.Continuation?, CheckedContinuation<Decision, Never>?) = state.withLock { s in
            s.finished = true
            if s.decision == nil {
                s.decision = .json(reply)
                defer { s.waiter = nil }
                return (nil, s.waiter)
            }
            if let reply { s.buffered.append(SSE.event(reply.bytes)) }
            guard let stream = s.stream else { return (nil, nil) }
            let events = s.buffered
            s.buffered = []
            for e in events { stream.yield(e) }
            return (stream, nil)
        }
        stream?.finish()
        waiter?.resume(returning: .json(reply))
    }

    /// Waits for the first event, or `patience`, whichever comes first.
    func decide(patience: Duration) async -> Decision {
        let timer = Task {
            try? await Task.sleep(for: patience)
            if !Task.isCancelled { self.giveUpWaiting() }
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { (c: CheckedContinuation<Decision, Never>) in
            let ready: Decision? = state.withLock { s in
                if let d = s.decision { return d }
                s.waiter = c
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    private func giveUpWaiting() {
        let waiter: CheckedContinuation<Decision, Never>? = state.withLock { s in
            guard s.decision == nil else { return nil }
            s.decision = .stream
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: .stream)
    }

    /// Attaches the SSE body: what was buffered goes first; a call already finished closes it at once.
    func attach(_ stream: AsyncStream<ByteBuffer>.Continuation) {
        // Yielded under the lock, so a notification arriving meanwhile cannot overtake the buffered ones.
        let finished: Bool = state.withLock { s in
            for e in s.buffered { stream.yield(e) }
            s.buffered = []
            if !s.finished { s.stream = stream }
            return s.finished
        }
        if finished { stream.finish() }
    }
}
