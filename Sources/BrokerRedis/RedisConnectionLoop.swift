// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The body of a connection's thread: a `poll()` loop over the wake-up pipe and the socket that connects,
/// logs in, writes commands as they come (pipelined: everything queued since the last write goes out in the next
/// one), matches replies to commands in order, enforces the timeout and reconnects with backoff.
///
/// Threading — why `@unchecked Sendable` is sound: the loop is handed to its thread once and every member below
/// is used only there; the connection's shared state is reached through its lock and atomics.
final class RedisConnectionLoop: @unchecked Sendable {
    /// Where the connection stands.
    enum Phase {
        /// Down; the next attempt starts at `until`.
        case waiting(until: ContinuousClock.Instant)
        /// TCP connect in progress.
        case connecting(deadline: ContinuousClock.Instant)
        /// TLS handshake in progress.
        case securing(deadline: ContinuousClock.Instant)
        /// AUTH / SELECT / PING sent, waiting for their replies.
        case handshaking(deadline: ContinuousClock.Instant)
        /// Logged in: commands flow.
        case ready
    }

    /// A command on the wire, waiting for its reply.
    enum Entry {
        case caller(RedisConnection.Request, deadline: ContinuousClock.Instant)
        /// A login step; the last one's reply makes the connection ready.
        case handshake(step: String, last: Bool, deadline: ContinuousClock.Instant)
        /// The keep-alive PING sent when the connection was idle for a second.
        case ping(deadline: ContinuousClock.Instant)

        var deadline: ContinuousClock.Instant {
            switch self {
            case .caller(_, let d), .handshake(_, _, let d), .ping(let d): return d
            }
        }
    }

    /// An idle connection is PINGed this often, so `isAvailable` tracks a service that vanished silently.
    static let idlePing = Duration.seconds(1)
    static let firstBackoff = Duration.milliseconds(100)
    static let longestBackoff = Duration.seconds(2)

    let connection: RedisConnection
    var settings: RedisConnectionSettings { connection.settings }
    var phase: Phase = .waiting(until: .now)
    var socket: RedisSocket?
    var transport: (any RedisTransport)?
    var reader = RedisReader()
    /// Bytes to send and how many of them the socket took.
    var outbound: [UInt8] = []
    var outboundSent = 0
    /// Commands accepted during a connection attempt, sent once it is logged in.
    var queued: [RedisConnection.Request] = []
    var inFlight = RedisFIFO<Entry>()
    /// Subscriber role: deadlines of keep-alive PINGs not yet answered (in SUBSCRIBE mode they come back as pushes).
    var subscriberPings = RedisFIFO<ContinuousClock.Instant>()
    var addresses: [RedisAddress] = []
    var nextAddress = 0
    var backoff = firstBackoff
    var lastWrite = ContinuousClock.now
    var receiveBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// The last failure, for the errors of commands refused while down.
    var lastFailure = "not connected yet"

    init(connection: RedisConnection) {
        self.connection = connection
    }

    /// Runs until the connection is shut down, then fails what is left.
    func run() {
        startAttempt(now: .now)
        while true {
            let (instructions, stopping) = connection.shared.withLock { state in
                defer { state.inbox.removeAll(keepingCapacity: true) }
                return (state.inbox, state.stopping)
            }
            if stopping { break }
            let now = ContinuousClock.now
            for instruction in instructions { accept(instruction, now: now) }
            advance(now: now)
            flush()
            var fds = [pollfd(fd: connection.wakeRead, events: Int16(POLLIN), revents: 0)]
            if let socket { fds.append(pollfd(fd: socket.fd, events: socketEvents, revents: 0)) }
            _ = poll(&fds, nfds_t(fds.count), pollTimeout(now: .now))
            if fds[0].revents != 0 { drainWakePipe() }
            if fds.count > 1, fds[1].revents != 0 { handleSocket(revents: fds[1].revents) }
        }
        teardown()
    }

    /// What to wait for on the socket.
    private var socketEvents: Int16 {
        if case .connecting = phase { return Int16(POLLOUT) }
        return Int16(POLLIN) | (outboundSent < outbound.count ? Int16(POLLOUT) : 0)
    }

    /// Milliseconds until the nearest deadline or timer (at most one second, at least 0).
    private func pollTimeout(now: ContinuousClock.Instant) -> Int32 {
        var next = now + .seconds(1)
        switch phase {
        case .waiting(let until):
            next = min(next, until)
        case .connecting(let d), .securing(let d), .handshaking(let d):
            next = min(next, d)
            if let first = queued.first { next = min(next, first.enqueued + settings.timeout) }
        case .ready:
            next = min(next, inFlight.first?.deadline ?? (lastWrite + Self.idlePing))
            if let ping = subscriberPings.first { next = min(next, ping) }
        }
        guard next > now else { return 0 }
        let (seconds, attoseconds) = (next - now).components
        // Rounded up, so the loop wakes after the deadline rather than spinning just before it.
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
    }

    /// Takes one instruction from a submitter.
    private func accept(_ instruction: RedisConnection.Instruction, now: ContinuousClock.Instant) {
        switch instruction {
        case .command(let request):
            switch phase {
            case .ready: write(.caller(request, deadline: request.enqueued + settings.timeout), request.command, now: now)
            case .connecting, .securing, .handshaking: queued.append(request)
            case .waiting: connection.finish(request, .failure(unavailable(lastFailure)))
            }
        case .subscribe(let channel):
            // Before the login completes, the full SUBSCRIBE at ready covers it.
            if case .ready = phase, let command = RedisCommand(["SUBSCRIBE", channel]) { writeRaw(command, now: now) }
        }
    }

    /// Time-driven steps: start an attempt, expire commands, keep an idle connection checked.
    private func advance(now: ContinuousClock.Instant) {
        switch phase {
        case .waiting(let until):
            if now >= until { startAttempt(now: now) }
        case .connecting(let deadline), .securing(let deadline), .handshaking(let deadline):
            if now >= deadline { return fail("no connection within \(settings.attemptTimeout)") }
            // Commands that came during the attempt wait no longer than the timeout; the attempt itself goes on.
            while let first = queued.first, first.enqueued + settings.timeout <= now {
                queued.removeFirst()
                connection.finish(first, .failure(unavailable("still connecting after \(settings.timeout)")))
            }
        case .ready:
            if let head = inFlight.first, head.deadline <= now { return fail("no reply within \(settings.timeout)") }
            if let ping = subscriberPings.first, ping <= now { return fail("no reply to PING within \(settings.timeout)") }
            if inFlight.isEmpty, now - lastWrite >= Self.idlePing { sendKeepAlive(now: now) }
        }
    }

    /// Reads what the socket has, or completes the TCP connect, or sends what waits.
    private func handleSocket(revents: Int16) {
        switch phase {
        case .waiting:
            return
        case .connecting(let deadline):
            do {
                try socket?.finishConnect()
            } catch {
                socket = nil
                return connectNext(deadline: deadline, previousError: error.description)
            }
            beginSession(deadline: deadline)
        case .securing, .handshaking, .ready:
            if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 { readAvailable() }
            if socket != nil, revents & Int16(POLLOUT) != 0 { flush() }
        }
    }

    /// Reads until the socket would block (at most 1 MiB per turn, so timers still run under a flood).
    private func readAvailable() {
        for _ in 0..<16 {
            guard let socket, let transport else { return }
            let result = receiveBuffer.withUnsafeMutableBytes { socket.receive(into: $0) }
            switch result {
            case .done(let count):
                var plain: [UInt8] = []
                do {
                    try receiveBuffer.withUnsafeBytes { raw in
                        try transport.received(UnsafeRawBufferPointer(rebasing: raw[..<count]), plain: &plain, outbound: &outbound)
                    }
                } catch {
                    return fail("\(error)")
                }
                if case .securing(let deadline) = phase {
                    continueTLS(deadline: deadline)
                    if self.socket == nil { return }
                }
                guard !plain.isEmpty else { continue }
                let replies: [RedisReply]
                do {
                    replies = try plain.withUnsafeBytes { try reader.feed($0) }
                } catch {
                    return fail("\(error)")
                }
                for reply in replies {
                    handle(reply)
                    if self.socket == nil { return }
                }
            case .wouldBlock:
                return
            case .closed:
                return fail("connection closed by the service")
            case .failed(let error):
                return fail(error.description)
            }
        }
    }

    /// Sends as much of `outbound` as the socket takes now.
    func flush() {
        guard let socket, outboundSent < outbound.count else { return }
        if case .connecting = phase { return }
        while outboundSent < outbound.count {
            let result = outbound.withUnsafeBytes { raw in socket.send(UnsafeRawBufferPointer(rebasing: raw[outboundSent...])) }
            switch result {
            case .done(let count):
                guard count > 0 else { return }
                outboundSent += count
            case .wouldBlock:
                compactOutbound()
                return
            case .closed:
                return fail("connection closed by the service")
            case .failed(let error):
                return fail(error.description)
            }
        }
        compactOutbound()
    }

    private func compactOutbound() {
        if outboundSent == outbound.count {
            outbound.removeAll(keepingCapacity: true)
            outboundSent = 0
        } else if outboundSent >= 64 * 1024 {
            outbound.removeFirst(outboundSent)
            outboundSent = 0
        }
    }

    private func drainWakePipe() {
        var scratch = [UInt8](repeating: 0, count: 256)
        while scratch.withUnsafeMutableBytes({ read(connection.wakeRead, $0.baseAddress, $0.count) }) > 0 {}
    }

    /// Shutdown: nothing more is accepted, and everything waiting fails.
    private func teardown() {
        let leftovers = connection.shared.withLock { state in
            state.closed = true
            state.accepting = false
            defer { state.inbox.removeAll() }
            return state.inbox
        }
        let error = SharedStateUnavailable("shared state store is shut down")
        for case .command(let request) in leftovers { connection.finish(request, .failure(error)) }
        failWaiting(error)
        socket = nil
        transport = nil
        connection.markStopped()
    }

    /// Fails every command waiting on this connection with `error`.
    func failWaiting(_ error: SharedStateUnavailable) {
        for case .caller(let request, _) in inFlight.removeAll() { connection.finish(request, .failure(error)) }
        for request in queued { connection.finish(request, .failure(error)) }
        queued.removeAll()
        _ = subscriberPings.removeAll()
    }

    /// The error of a command that cannot be served.
    func unavailable(_ reason: String) -> SharedStateUnavailable {
        SharedStateUnavailable("shared state store \(settings.address): \(reason)")
    }
}
