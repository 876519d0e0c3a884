// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization

/// A credential value that never prints.
///
/// `description`, `debugDescription`, string interpolation and `Encodable` all yield `<redacted>`, so a secret
/// that reaches a log line, an error or a JSON dump by accident leaks nothing. Read the value only with
/// ``withValue(_:)`` at the point of use.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable, Encodable, Equatable {
    private let value: String

    public init(_ value: String) { self.value = value }

    /// Runs `body` with the plain value.
    public func withValue<T>(_ body: (String) throws -> T) rethrows -> T { try body(value) }

    /// Constant-time comparison, so a wrong credential cannot be found byte by byte through timing.
    public func constantTimeEquals(_ other: Secret) -> Bool {
        let a = Array(value.utf8), b = Array(other.value.utf8)
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode("<redacted>")
    }
}

/// Where a secret lives: an environment variable or a mounted file (`env:NAME`, `file:/run/secrets/x`).
///
/// Config never holds a secret literal; it holds one of these. The value is read at each ``resolve()``, so a
/// rotated Kubernetes secret file is picked up without a restart.
public struct SecretReference: Sendable, Hashable, CustomStringConvertible {
    public enum Source: Sendable, Hashable {
        case environment(String)
        case file(String)
    }

    public let source: Source

    public init(source: Source) { self.source = source }

    /// Parses `env:NAME` or `file:/path`; `nil` for anything else (which config loading refuses as inline).
    public init?(parsing text: String) {
        if text.hasPrefix("env:") {
            let name = String(text.dropFirst(4))
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
            source = .environment(name)
        } else if text.hasPrefix("file:") {
            let path = String(text.dropFirst(5))
            guard path.hasPrefix("/") || path.hasPrefix("./") || !path.isEmpty else { return nil }
            source = .file(path)
        } else {
            return nil
        }
    }

    /// The reference itself (safe to print: it names where the secret is, not what it is).
    public var description: String {
        switch source {
        case .environment(let n): return "env:\(n)"
        case .file(let p): return "file:\(p)"
        }
    }

    /// Reads the current value.
    /// - Throws: ``BrokerError`` with code `backend_credentials_rejected`-free wording: the reference, never a value.
    public func resolve() throws(SecretResolutionError) -> Secret {
        switch source {
        case .environment(let name):
            // getenv, not ProcessInfo.environment: that builds a dictionary of the whole environment on every
            // read, and secrets are read on every call (so rotation needs no restart); profiles showed it.
            guard let raw = getenv(name), case let v = String(cString: raw), !v.isEmpty else {
                throw SecretResolutionError(reference: description, reason: "environment variable \(name) is not set")
            }
            return Secret(v)
        case .file(let path):
            let before = SecretFileCache.identity(path)
            if let before, let cached = SecretFileCache.shared.value(path: path, identity: before) { return cached }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw SecretResolutionError(reference: description, reason: "file \(path) is missing or unreadable")
            }
            // Mounted secrets usually end with a newline that is not part of the value.
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw SecretResolutionError(reference: description, reason: "file \(path) is empty") }
            let secret = Secret(trimmed)
            if let before { SecretFileCache.shared.store(secret, path: path, readFrom: before) }
            return secret
        }
    }
}

/// Secret files as last read, keyed by path and validated by `stat` on every use.
///
/// Secrets are resolved at every use so a rotated file takes effect at once; reading and trimming the file each
/// time cost an open/read/close per backend call. One `stat` now tells whether the file changed: a Kubernetes
/// secret update swaps a symlink (new inode), an editor or `mv` replaces the file, an in-place write changes the
/// modification time or size.
final class SecretFileCache: Sendable {
    static let shared = SecretFileCache()

    /// What `stat` says about the file (through symlinks).
    struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int
    }

    private let entries = Mutex<[String: (identity: Identity, secret: Secret)]>([:])

    /// The cached secret when the file is still the one it was read from.
    func value(path: String, identity: Identity) -> Secret? {
        entries.withLock { entries in
            guard let entry = entries[path], entry.identity == identity else { return nil }
            return entry.secret
        }
    }

    /// Remembers what `path` held, unless the file changed while it was read (then the next use reads again).
    func store(_ secret: Secret, path: String, readFrom identity: Identity) {
        guard Self.identity(path) == identity else { return }
        entries.withLock { $0[path] = (identity, secret) }
    }

    static func identity(_ path: String) -> Identity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        // The timespec is read as its two words: naming its fields needs a module that strict member-import
        // visibility does not let this file see.
        let (seconds, nanoseconds) = withUnsafeBytes(of: info.st_mtim) { raw in
            (raw.loadUnaligned(fromByteOffset: 0, as: Int.self), raw.loadUnaligned(fromByteOffset: MemoryLayout<Int>.size, as: Int.self))
        }
        return Identity(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modifiedSeconds: seconds, modifiedNanoseconds: nanoseconds)
    }
}

/// A secret reference that could not be read. Names the reference, never a value.
public struct SecretResolutionError: Error, Sendable, CustomStringConvertible {
    public let reference: String
    public let reason: String
    public var description: String { reason }
}
