// SPDX-License-Identifier: Apache-2.0

import Crypto
import Dispatch
import Foundation
import MCPCore

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
public final class AuditLog: Sendable {
    private let fd: Int32
    private let queue = DispatchQueue(label: "mcp-broker.audit")
    private let hashKey: SecretReference?

    /// Opens (or creates, mode 0600) the file for appending.
    /// - Throws: ``ConfigError`` when the file cannot be opened: a broker that cannot audit must not serve.
    public init(settings: AuditSettings) throws(ConfigError) {
        let dir = (settings.path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let fd = open(settings.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ConfigError(file: "configuration", path: "server.audit.path", reason: "cannot open \(settings.path) for appending (errno \(errno))")
        }
        self.fd = fd
        self.hashKey = settings.hashKey
    }

    deinit { close(fd) }

    /// Appends one line (asynchronously; ``flush()`` waits for everything written so far).
    public func record(_ record: AuditRecord) {
        var encoded = JSONWriter.encode(record.json)
        encoded.append(0x0A)
        let line = encoded, fd = self.fd
        queue.async {
            line.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { return }
                    offset += n
                }
            }
        }
    }

    /// Waits until every line recorded so far is written.
    public func flush() { queue.sync {} }

    /// The digest of a call's arguments: HMAC-SHA-256 (or SHA-256) of their canonical JSON (sorted keys).
    public func digest(_ arguments: JSONValue) -> String {
        let bytes = JSONWriter.encode(arguments)
        if let key = try? hashKey?.resolve() {
            let mac = key.withValue { HMAC<SHA256>.authenticationCode(for: bytes, using: SymmetricKey(data: Array($0.utf8))) }
            return Self.hex(Array(mac))
        }
        return Self.hex(Array(SHA256.hash(data: bytes)))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
