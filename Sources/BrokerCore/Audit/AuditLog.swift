// SPDX-License-Identifier: Apache-2.0

import Crypto
import Dispatch
import Foundation
import Logging
import MCPCore
import Synchronization

/// Where audit lines go (`server.audit`).
public struct AuditSettings: Sendable {
    /// Append-only file, one JSON object per line.
    public var path: String
    /// Key for the argument digest (HMAC-SHA-256). Without one the digest is a plain SHA-256, which a reader
    /// of the audit file could brute-force for low-entropy arguments such as an employee id.
    public var hashKey: SecretReference?

    public init(path: String, hashKey: SecretReference? = nil) {
        self.path = path
        self.hashKey = hashKey
    }

    /// Whether `other` writes to the same file with the same digest key (a reload then keeps the open log).
    public func sameSink(as other: AuditSettings) -> Bool { path == other.path && hashKey == other.hashKey }
}

/// One configuration reload attempt, successful or refused: what triggered it, the SHA-256 of the configuration
/// files before and after, and why it was refused. Never a setting's value: the error is a ``ConfigError`` text.
public struct ReloadAuditRecord: Sendable {
    /// `signal`, `file`, `api_keys_file` or `jwks_file`.
    public var trigger: String
    /// `applied` or `refused`.
    public var result: String
    /// Hash of the configuration that served before the attempt.
    public var oldHash: String
    /// Hash of the configuration that was read.
    public var newHash: String
    /// The refusal, as `file:line: key: reason`.
    public var error: String?

    public init(trigger: String, result: String, oldHash: String, newHash: String, error: String? = nil) {
        self.trigger = trigger
        self.result = result
        self.oldHash = oldHash
        self.newHash = newHash
        self.error = error
    }

    var json: JSONValue {
        var o: [String: JSONValue] = [
            "time": .string(JSONLogHandler.timestamp()), "event": "config_reload", "trigger": .string(trigger), "result": .string(result),
            "old_config_sha256": .string(oldHash), "new_config_sha256": .string(newHash),
        ]
        if let error { o["error"] = .string(error) }
        return .object(o)
    }
}

/// One audited request: who asked for what, what policy decided and how it ended. Never an argument value
/// or a secret: arguments appear only as a digest, so equal calls can be correlated without being readable.
public struct AuditRecord: Sendable {
    public var correlationID: String
    public var principal: Principal
    /// `tools/call`, `resources/read` or `prompts/get`.
    public var method: String
    /// Tool or prompt name, or resource URI.
    public var target: String
    public var backend: String?
    public var argumentsDigest: String?
    /// `allowed` or `denied`.
    public var decision: String
    /// The rule that decided (`role:analyst`, `default-deny`, a rule id).
    public var rule: String
    /// `ok`, an error code, or `not_run` for denials.
    public var outcome: String
    public var durationMilliseconds: Double

    public init(
        correlationID: String, principal: Principal, method: String, target: String, backend: String?, argumentsDigest: String?,
        decision: String, rule: String, outcome: String, durationMilliseconds: Double
    ) {
        self.correlationID = correlationID
        self.principal = principal
        self.method = method
        self.target = target
        self.backend = backend
        self.argumentsDigest = argumentsDigest
        self.decision = decision
        self.rule = rule
        self.outcome = outcome
        self.durationMilliseconds = durationMilliseconds
    }

    var json: JSONValue {
        var o: [String: JSONValue] = [
            "time": .string(JSONLogHandler.timestamp()), "correlation_id": .string(correlationID), "principal": .string(principal.id),
            "tenant": .string(principal.tenant), "method": .string(method), "target": .string(target), "decision": .string(decision),
            "rule": .string(rule), "outcome": .string(outcome), "duration_ms": .double(durationMilliseconds),
        ]
        if let backend { o["backend"] = .string(backend) }
        if let argumentsDigest { o["args_sha256"] = .string(argumentsDigest) }
        return .object(o)
    }
}

/// The audit sink: an append-only file written from its own serial queue, so a slow disk never blocks
/// Swift's cooperative threads and lines from concurrent calls never interleave.
///
/// Failures are never silent: a line that cannot be written (disk full, I/O error) is counted, logged at error level
/// (the first and then every 100th) and makes `/readyz` report the audit as failing until a write succeeds again; a
/// configured `hash_key` that cannot be read makes the digest `hmac-unavailable` — never a plain SHA-256, which
/// anyone reading the file could brute-force for low-entropy arguments.
public final class AuditLog: Sendable {
    /// Where this log writes (a reload with the same settings keeps this instance).
    public let settings: AuditSettings
    private let fd: Int32
    private let queue = DispatchQueue(label: "mcp-broker.audit")
    private let hashKey: SecretReference?
    private let logger: Logger?
    private let failedWrites = Atomic<Int>(0)
    private let lastWriteFailed = Atomic<Bool>(false)
    private let keyFailures = Atomic<Int>(0)
    private let metrics: BrokerMetrics

    /// The digest written when the configured `hash_key` cannot be read.
    public static let digestUnavailable = "hmac-unavailable"

    /// Lines that could not be written since start.
    public var writeFailures: Int { failedWrites.load(ordering: .relaxed) }
    /// Whether the most recent write failed (the audit trail has a gap until one succeeds).
    public var isFailing: Bool { lastWriteFailed.load(ordering: .relaxed) }

    /// Opens (or creates, mode 0600) the file for appending.
    /// - Throws: ``ConfigError`` when the file cannot be opened, or a configured `hash_key` cannot be read: a broker
    ///   that cannot audit must not serve.
    public init(settings: AuditSettings, logger: Logger? = nil, metrics: BrokerMetrics = .disabled) throws(ConfigError) {
        if let key = settings.hashKey {
            do { _ = try key.resolve() } catch {
                throw ConfigError(file: "configuration", path: "server.audit.hash_key", reason: "the key cannot be read (\(key)); set it, or remove hash_key")
            }
        }
        let dir = (settings.path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let fd = open(settings.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ConfigError(file: "configuration", path: "server.audit.path", reason: "cannot open \(settings.path) for appending (errno \(errno))")
        }
        self.fd = fd
        self.settings = settings
        self.hashKey = settings.hashKey
        self.logger = logger
        self.metrics = metrics
    }

    deinit { close(fd) }

    /// Appends one line (asynchronously; ``flush()`` waits for everything written so far).
    public func record(_ record: AuditRecord) { append(record.json) }

    /// Appends the line of a configuration reload attempt.
    public func record(_ record: ReloadAuditRecord) { append(record.json) }

    private func append(_ value: JSONValue) {
        var encoded = JSONWriter.encode(value)
        encoded.append(0x0A)
        let line = encoded
        queue.async { [self] in
            let failure: Int32? = line.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { return n < 0 ? errno : EIO }
                    offset += n
                }
                return nil
            }
            noteWrite(failure: failure)
        }
    }

    private func noteWrite(failure: Int32?) {
        guard let failure else {
            if lastWriteFailed.exchange(false, ordering: .relaxed) { logger?.notice("audit writes succeed again") }
            return
        }
        lastWriteFailed.store(true, ordering: .relaxed)
        metrics.recordAuditWriteFailure()
        let count = failedWrites.add(1, ordering: .relaxed).newValue
        if count == 1 || count % 100 == 0 {
            logger?.error("audit line not written", metadata: ["errno": .stringConvertible(failure), "failed_writes": .stringConvertible(count)])
        }
    }

    /// Waits until every line recorded so far is written.
    public func flush() { queue.sync {} }

    /// The digest of a call's arguments: HMAC-SHA-256 (or SHA-256) of their canonical JSON (sorted keys).
    public func digest(_ arguments: JSONValue) -> String {
        let bytes = JSONWriter.encode(arguments)
        guard let hashKey else { return Hex.lowercase(Array(SHA256.hash(data: bytes))) }
        guard let key = try? hashKey.resolve() else {
            let count = keyFailures.add(1, ordering: .relaxed).newValue
            if count == 1 || count % 100 == 0 {
                logger?.error("audit hash_key cannot be read; digests are written as \(Self.digestUnavailable)", metadata: ["failures": .stringConvertible(count)])
            }
            return Self.digestUnavailable
        }
        let mac = key.withValue { HMAC<SHA256>.authenticationCode(for: bytes, using: SymmetricKey(data: Array($0.utf8))) }
        return Hex.lowercase(Array(mac))
    }

}
