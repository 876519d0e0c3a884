// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One connection to the service, driven by its own thread (``RedisConnectionLoop``); commands are submitted from
/// any task and answered in order through continuations, so nothing blocks Swift's cooperative pool.
///
/// Threading — why `@unchecked Sendable` is sound: the mutable state submitters and the thread share is in
/// `shared` (a `Mutex`) or atomics; the wake-up pipe's descriptors are written once in `init` and closed in
/// `deinit`, which runs only after the thread (which holds a reference) has ended and no submitter holds one.
final class RedisConnection: @unchecked Sendable {
    /// What the connection is for.
    enum Role: Sendable {
        /// Request/response: replies are matched to commands in order.
        case commands
        /// SUBSCRIBE mode: messages are delivered to the handlers in the table.
        case subscriber(RedisSubscriptions)
    }

    /// A caller's command waiting for its reply.
    struct Request: Sendable {
        let command: RedisCommand
        let enqueued: ContinuousClock.Instant
        let continuation: CheckedContinuation<RedisReply, any Error>
    }

    /// What submitters hand to the thread.
    enum Instruction: Sendable {
        case command(Request)
        /// SUBSCRIBE to one more channel (subscriber role).
        case subscribe(String)
    }

    /// What submitters and the thread exchange under the lock.
    struct Shared {
        var inbox: [Instruction] = []
        /// Whether commands are taken: during the first connection attempt and while connected. While the
        /// service is down they fail at once, so no work piles up behind it.
        var accepting = true
        /// Why the service is unusable now (for the errors of commands refused while down).
        var failure: String?
        var stopping = false
        /// Set by the thread when it has taken the last instructions; nothing is accepted after.
        var closed = false
    }

    /// Most commands that may wait at once; beyond, commands fail fast instead of queueing unbounded work.
    static let maxPending = 10_000

    let settings: RedisConnectionSettings
    let role: Role
    let logger: Logger
    let shared = Mutex(Shared())
    /// Accepted commands not yet answered.
    let pending = Atomic<Int>(0)
    private let availableFlag = Atomic<Bool>(false)
    /// The last availability that was logged (`nil` before the first), so transitions are logged once.
    private let loggedAvailability = Mutex<Bool?>(nil)
    /// The wake-up pipe: submitters write a byte, the thread polls the read end.
    let wakeRead: Int32
    private let wakeWrite: Int32

    init(settings: RedisConnectionSettings, role: Role, logger: Logger) {
        self.settings = settings
        self.role = role
        self.logger = logger
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        if wakeRead < 0 { shared.withLock { $0.closed = true; $0.failure = "cannot create the wake-up pipe" } }
    }

    deinit {
        if wakeRead >= 0 { close(wakeRead) }
        if wakeWrite >= 0 { close(wakeWrite) }
    }

    /// Starts the connection thread.
    func start(threadName: String) {
        guard wakeRead >= 0 else { return }
        let loop = RedisConnectionLoop(connection: self)
        let thread = Thread { loop.run() }
        thread.name = threadName
        thread.start()
    }

    /// Whether the service answered the last exchange.
    var isAvailable: Bool { availableFlag.load(ordering: .relaxed) }

    /// Sends `command` and waits for its reply (at most the timeout, then ``SharedStateUnavailable``).
    func send(_ command: RedisCommand) async throws -> RedisReply {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RedisReply, any Error>) in
            let request = Request(command: command, enqueued: .now, continuation: continuation)
            let outcome = shared.withLock { state -> Result<Bool, SharedStateUnavailable> in
                if state.stopping || state.closed { return .failure(SharedStateUnavailable("shared state store is shut down")) }
                guard state.accepting else {
                    return .failure(SharedStateUnavailable("shared state store \(settings.address) is unavailable: \(state.failure ?? "not connected")"))
                }
                guard pending.load(ordering: .relaxed) < Self.maxPending else {
                    return .failure(SharedStateUnavailable("shared state store: \(Self.maxPending) commands already waiting"))
                }
                pending.add(1, ordering: .relaxed)
                state.inbox.append(.command(request))
                return .success(state.inbox.count == 1)
            }
            switch outcome {
            case .failure(let error): continuation.resume(throwing: error)
            case .success(let first): if first { wake() }
            }
        }
    }

    /// Asks the subscriber thread to SUBSCRIBE to `channel` now (it subscribes to every channel after a reconnect).
    func subscribe(_ channel: String) {
        let first = shared.withLock { state -> Bool in
            guard !state.stopping, !state.closed else { return false }
            state.inbox.append(.subscribe(channel))
            return state.inbox.count == 1
        }
        if first { wake() }
    }

    /// Stops the thread: pending commands fail, later ones fail at once. Idempotent.
    func shutdown() {
        let first = shared.withLock { state -> Bool in
            defer { state.stopping = true }
            return !state.stopping && !state.closed
        }
        if first { wake() }
    }

    /// Completes `request` (on the connection thread).
    func finish(_ request: Request, _ result: Result<RedisReply, any Error>) {
        pending.subtract(1, ordering: .relaxed)
        request.continuation.resume(with: result)
    }

    /// Records that the service answered (`reason == nil`) or failed, logging a change once.
    func setAvailable(_ up: Bool, reason: String? = nil) {
        availableFlag.store(up, ordering: .relaxed)
        let changed = loggedAvailability.withLock { last -> Bool in
            defer { last = up }
            return last != up
        }
        guard changed else { return }
        let role: String
        switch self.role {
        case .commands: role = "commands"
        case .subscriber: role = "subscriber"
        }
        if up {
            logger.info("shared state store connected", metadata: ["address": .string(settings.address), "connection": .string(role)])
        } else {
            logger.warning(
                "shared state store unavailable", metadata: ["address": .string(settings.address), "connection": .string(role), "reason": .string(reason ?? "")])
        }
    }

    /// The thread stopped: unavailable, without logging an outage.
    func markStopped() {
        availableFlag.store(false, ordering: .relaxed)
    }

    /// A write to the pipe; a full pipe already guarantees a wake-up, so EAGAIN is fine.
    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }
}

/// The channels a store subscribed to and their handlers, read by the subscriber thread after every reconnect.
final class RedisSubscriptions: Sendable {
    private let table = Mutex<[String: [@Sendable (String) -> Void]]>([:])

    /// Adds `handler` for `channel` (the full, prefixed name); `true` when the channel is new.
    func add(_ channel: String, _ handler: @escaping @Sendable (String) -> Void) -> Bool {
        table.withLock { t in
            defer { t[channel, default: []].append(handler) }
            return t[channel] == nil
        }
    }

    /// Every channel with a handler.
    var channels: [String] { table.withLock { Array($0.keys).sorted() } }

    /// The handlers of `channel`.
    func handlers(_ channel: String) -> [@Sendable (String) -> Void] { table.withLock { $0[channel] ?? [] } }
}
