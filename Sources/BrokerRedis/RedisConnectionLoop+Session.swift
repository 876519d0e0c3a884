// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Synchronization

/// Connecting, logging in, matching replies and failing: the session half of the loop.
extension RedisConnectionLoop {
    /// Resolves the host (blocking, on this thread) and starts the TCP connect.
    func startAttempt(now: ContinuousClock.Instant) {
        let deadline = now + settings.attemptTimeout
        do {
            addresses = try RedisAddress.resolve(host: settings.host, port: settings.port)
        } catch {
            return fail(error.description)
        }
        nextAddress = 0
        connectNext(deadline: deadline, previousError: nil)
    }

    /// Tries the next resolved address; fails the attempt when none is left.
    func connectNext(deadline: ContinuousClock.Instant, previousError: String?) {
        var lastError = previousError
        while nextAddress < addresses.count {
            let address = addresses[nextAddress]
            nextAddress += 1
            do {
                socket = try RedisSocket(connectingTo: address)
                phase = .connecting(deadline: deadline)
                return
            } catch {
                lastError = error.description
            }
        }
        fail(lastError ?? "no address to connect to")
    }

    /// TCP is up: start TLS, or log in.
    func beginSession(deadline: ContinuousClock.Instant) {
        reader = RedisReader()
        outbound.removeAll()
        outboundSent = 0
        if let tls = settings.tls {
            do {
                transport = try TLSTransport(settings: tls)
            } catch {
                return fail(error.description)
            }
            phase = .securing(deadline: deadline)
            continueTLS(deadline: deadline)
        } else {
            transport = PlainTransport()
            sendLogin(deadline: deadline)
        }
    }

    /// Advances the TLS handshake; logs in once it is done.
    func continueTLS(deadline: ContinuousClock.Instant) {
        guard let transport else { return }
        do {
            if try transport.handshake(outbound: &outbound) { sendLogin(deadline: deadline) }
        } catch {
            fail(error.description)
        }
    }

    /// AUTH (when a password is configured), SELECT and PING, pipelined; the PING's reply makes the connection ready.
    func sendLogin(deadline: ContinuousClock.Instant) {
        phase = .handshaking(deadline: deadline)
        var steps: [RedisCommand] = []
        if let reference = settings.password {
            let secret: Secret
            do {
                secret = try reference.resolve()
            } catch {
                return fail("password \(reference): \(error.reason)")
            }
            let auth = secret.withValue { value in RedisCommand(["AUTH"] + (settings.username.map { [$0] } ?? []) + [value]) }
            guard let auth else { return fail("cannot encode AUTH") }
            steps.append(auth)
        }
        guard let select = RedisCommand(["SELECT", String(settings.database)]), let ping = RedisCommand(["PING"]) else {
            return fail("cannot encode the login")
        }
        steps += [select, ping]
        let now = ContinuousClock.now
        for (index, step) in steps.enumerated() {
            write(.handshake(step: step.name, last: index == steps.count - 1, deadline: deadline), step, now: now)
        }
    }

    /// Queues `command` for the socket with `entry` waiting for its reply.
    func write(_ entry: Entry, _ command: RedisCommand, now: ContinuousClock.Instant) {
        inFlight.append(entry)
        writeRaw(command, now: now)
    }

    /// Queues `command` for the socket without a reply entry (SUBSCRIBE, whose replies are pushes).
    func writeRaw(_ command: RedisCommand, now: ContinuousClock.Instant) {
        guard let transport else { return }
        do {
            try transport.send(command.bytes, outbound: &outbound)
        } catch {
            return fail(error.description)
        }
        lastWrite = now
    }

    /// One reply from the service.
    func handle(_ reply: RedisReply) {
        if case .subscriber(let subscriptions) = connection.role, case .ready = phase {
            return handlePush(reply, subscriptions)
        }
        guard let entry = inFlight.popFirst() else { return fail("reply without a command (\(reply.kind))") }
        switch entry {
        case .caller(let request, _):
            if case .error(let message) = reply, Self.meansUnavailable(message) {
                connection.finish(request, .failure(unavailable(message)))
                return fail(message)
            }
            if !connection.isAvailable { connection.setAvailable(true) }
            connection.finish(request, .success(reply))
        case .handshake(let step, let last, _):
            if case .error(let message) = reply { return fail("\(step) refused: \(message)") }
            if last { becomeReady() }
        case .ping:
            if case .error(let message) = reply { return fail("PING refused: \(message)") }
            if !connection.isAvailable { connection.setAvailable(true) }
        }
    }

    /// SUBSCRIBE mode: messages go to their handlers; subscribe confirmations and PING answers show the link is up.
    func handlePush(_ reply: RedisReply, _ subscriptions: RedisSubscriptions) {
        if case .error(let message) = reply { return fail(message) }
        guard case .array(let items) = reply, let kind = items.first?.text?.lowercased() else { return }
        switch kind {
        case "message":
            guard items.count == 3, let channel = items[1].text, let payload = items[2].text else { return }
            // Handlers must not block (the store's contract); they run here, in order, without a task per message.
            for handler in subscriptions.handlers(channel) { handler(payload) }
        case "pong":
            _ = subscriberPings.popFirst()
        default:
            break
        }
    }

    /// Logged in: commands flow, and a subscriber subscribes to every channel again.
    func becomeReady() {
        phase = .ready
        backoff = Self.firstBackoff
        connection.shared.withLock { state in
            state.accepting = true
            state.failure = nil
        }
        connection.setAvailable(true)
        let now = ContinuousClock.now
        for request in queued { write(.caller(request, deadline: request.enqueued + settings.timeout), request.command, now: now) }
        queued.removeAll()
        if case .subscriber(let subscriptions) = connection.role {
            let channels = subscriptions.channels
            if !channels.isEmpty, let command = RedisCommand(["SUBSCRIBE"] + channels) { writeRaw(command, now: now) }
        }
    }

    /// A PING on an idle connection.
    func sendKeepAlive(now: ContinuousClock.Instant) {
        guard let ping = RedisCommand(["PING"]) else { return }
        if case .subscriber = connection.role {
            subscriberPings.append(now + settings.timeout)
            writeRaw(ping, now: now)
        } else {
            write(.ping(deadline: now + settings.timeout), ping, now: now)
        }
    }

    /// Drops the connection: everything waiting fails, commands fail at once until the next login succeeds,
    /// and the next attempt starts after the backoff (100 ms doubling to 2 s, with jitter).
    func fail(_ reason: String) {
        socket = nil
        transport = nil
        outbound.removeAll()
        outboundSent = 0
        lastFailure = reason
        connection.shared.withLock { state in
            state.accepting = false
            state.failure = reason
        }
        connection.setAvailable(false, reason: reason)
        failWaiting(unavailable(reason))
        let delay = backoff * Double.random(in: 0.5...1.0)
        backoff = min(backoff * 2, Self.longestBackoff)
        phase = .waiting(until: .now + delay)
    }

    /// Error replies that say this service cannot serve now (rather than "this command was wrong"): the
    /// connection is dropped and logged in again, which also repairs an ACL or password change.
    static func meansUnavailable(_ message: String) -> Bool {
        let code = message.prefix { $0 != " " }
        return ["NOAUTH", "WRONGPASS", "LOADING", "READONLY", "MASTERDOWN", "MISCONF"].contains(code)
    }
}
