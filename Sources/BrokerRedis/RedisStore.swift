// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import Synchronization

/// ``SharedStateStore`` over Redis (or any service speaking its protocol): the state every replica shares.
///
/// Two connections, each on its own thread: one for commands (pipelined, replies matched in order), and, from the
/// first ``subscribe(_:_:)`` on, one in SUBSCRIBE mode. There is no fallback here: every failure is reported as
/// ``SharedStateUnavailable`` within `timeout_ms`, and callers degrade to local state. The connections reconnect
/// in the background, so a replica returns to shared state by itself once the service is back.
public final class RedisStore: SharedStateStore {
    private let settings: SharedStateSettings
    private let connectionSettings: RedisConnectionSettings
    private let logger: Logger
    private let commands: RedisConnection
    private let subscriptions = RedisSubscriptions()
    /// Created by the first `subscribe`; `nil` while nothing is subscribed.
    private let subscriber = Mutex<RedisConnection?>(nil)
    private let stopped = Atomic<Bool>(false)

    /// Starts connecting to `settings.redis` in the background (the first commands wait for that attempt, at most
    /// `timeout_ms`). The password is read from its reference at every (re)connect and never logged.
    /// - Parameter label: names the connection threads (`redis-<label>`), for several stores in one process.
    public init(settings: SharedStateSettings, logger: Logger, label: String = "shared") {
        self.settings = settings
        self.logger = logger
        connectionSettings = RedisConnectionSettings(settings.redis, timeout: .milliseconds(max(1, settings.timeoutMilliseconds)))
        commands = RedisConnection(settings: connectionSettings, role: .commands, logger: logger)
        commands.start(threadName: "redis-\(label)")
    }

    deinit { shutdown() }

    /// `host:port` of the service (for logs; no credential).
    public var address: String { connectionSettings.address }

    /// Whether the command connection is logged in and its last exchange succeeded.
    public var isAvailable: Bool { commands.isAvailable }

    /// Stops both connection threads; pending and later commands fail with ``SharedStateUnavailable``.
    public func shutdown() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        commands.shutdown()
        subscriber.withLock { $0?.shutdown() }
    }

    // MARK: Operations

    /// GCRA through ``GCRAScript`` (EVALSHA, EVAL once after NOSCRIPT), on the service's clock: every bucket in one
    /// round trip, all or none.
    public func acquire(_ buckets: [SharedBucket]) async throws -> SharedRefusal? {
        guard !buckets.isEmpty else { return nil }
        let arguments = GCRAScript.arguments(for: buckets, name: name)
        var reply = try await run(["EVALSHA", GCRAScript.sha1] + arguments)
        // The service lost its script cache (restart, failover, SCRIPT FLUSH): send the script itself once.
        if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
            reply = try await run(["EVAL", GCRAScript.source] + arguments)
        }
        guard case .success(let refusal) = GCRAScript.decision(try checked(reply, "EVALSHA"), count: buckets.count) else {
            throw unexpected(reply, "EVALSHA")
        }
        return refusal
    }

    public func claim(_ key: String, value: String, ttl: Duration) async throws -> Bool {
        let reply = try checked(try await run(["SET", name(key), value, "NX", "PX", Self.milliseconds(ttl)]), "SET")
        switch reply {
        case .status("OK"): return true
        case .null: return false
        default: throw unexpected(reply, "SET NX")
        }
    }

    /// `SET key value PX ttl`.
    public func set(_ key: String, value: String, ttl: Duration) async throws {
        let reply = try checked(try await run(["SET", name(key), value, "PX", Self.milliseconds(ttl)]), "SET")
        guard case .status("OK") = reply else { throw unexpected(reply, "SET") }
    }

    /// `GET key`.
    public func get(_ key: String) async throws -> String? {
        let reply = try checked(try await run(["GET", name(key)]), "GET")
        switch reply {
        case .bulk: return reply.text
        case .null: return nil
        default: throw unexpected(reply, "GET")
        }
    }

    /// `PEXPIRE key ttl`.
    public func touch(_ key: String, ttl: Duration) async throws -> Bool {
        let reply = try checked(try await run(["PEXPIRE", name(key), Self.milliseconds(ttl)]), "PEXPIRE")
        guard case .integer(let n) = reply else { throw unexpected(reply, "PEXPIRE") }
        return n == 1
    }

    /// `DEL key`.
    public func delete(_ key: String) async throws -> Bool {
        let reply = try checked(try await run(["DEL", name(key)]), "DEL")
        guard case .integer(let n) = reply else { throw unexpected(reply, "DEL") }
        return n > 0
    }

    /// `PUBLISH prefix+channel message`.
    public func publish(_ channel: String, _ message: String) async throws {
        let reply = try checked(try await run(["PUBLISH", name(channel), message]), "PUBLISH")
        guard case .integer = reply else { throw unexpected(reply, "PUBLISH") }
    }

    /// Registers `handler`; handlers run on the subscriber connection's thread, in order, and must not block.
    public func subscribe(_ channel: String, _ handler: @escaping @Sendable (String) -> Void) {
        let full = name(channel)
        let isNew = subscriptions.add(full, handler)
        let connection = subscriber.withLock { slot -> RedisConnection? in
            if slot != nil { return slot }
            // Checked under the lock `shutdown` also takes, so no connection is started after it.
            guard !stopped.load(ordering: .relaxed) else { return nil }
            // The first subscription starts the connection, which subscribes to the whole table once logged in.
            let made = RedisConnection(settings: connectionSettings, role: .subscriber(subscriptions), logger: logger)
            made.start(threadName: "redis-sub")
            slot = made
            return nil
        }
        if isNew { connection?.subscribe(full) }
    }

    // MARK: Helpers

    /// `key_prefix` + `key`: deployments sharing one service never see each other's keys or channels.
    private func name(_ key: String) -> String { settings.keyPrefix + key }

    private func run(_ arguments: [String]) async throws -> RedisReply {
        guard let command = RedisCommand(arguments) else { throw SharedStateUnavailable("cannot encode \(arguments.first ?? "")") }
        return try await commands.send(command)
    }

    /// The reply, unless it is an error reply (then ``SharedStateUnavailable`` with the service's message).
    private func checked(_ reply: RedisReply, _ command: String) throws -> RedisReply {
        if case .error(let message) = reply {
            throw SharedStateUnavailable("shared state store \(address): \(command) failed: \(message)")
        }
        return reply
    }

    /// A reply of the wrong kind: the service is not behaving like Redis, so it counts as unavailable.
    private func unexpected(_ reply: RedisReply, _ command: String) -> SharedStateUnavailable {
        let reason = "unexpected \(reply.kind) reply to \(command)"
        commands.setAvailable(false, reason: reason)
        return SharedStateUnavailable("shared state store \(address): \(reason)")
    }

    /// A TTL in whole milliseconds for PX / PEXPIRE: at least 1 (0 is an error in Redis), at most about 100 years.
    static func milliseconds(_ ttl: Duration) -> String {
        let (seconds, attoseconds) = ttl.components
        guard seconds >= 0 else { return "1" }
        guard seconds < 3_000_000_000 else { return "3000000000000" }
        // Rounded up: a TTL never ends before the caller asked.
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return String(max(1, ms))
    }
}
