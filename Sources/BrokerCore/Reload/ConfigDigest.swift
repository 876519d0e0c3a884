// SPDX-License-Identifier: Apache-2.0

import Crypto
import Foundation

/// Content hashes of the files a running broker depends on, so a reload can tell what changed and the audit log
/// can name the configuration that served.
///
/// Hashing content rather than watching modification times also sees a Kubernetes ConfigMap update, which swaps a
/// symlink and leaves every file's own timestamp alone.
public enum ConfigDigest {
    /// SHA-256 (lowercase hex) over the bytes of `files`, in the given order. A file that cannot be read adds
    /// nothing, so its disappearance still changes the hash (to that of the other files).
    public static func sha256(files: [String]) -> String {
        var hasher = SHA256()
        for file in files {
            if let data = FileManager.default.contents(atPath: file) { hasher.update(data: data) }
        }
        return Hex.lowercase(hasher.finalize())
    }

    /// The configuration files of `path` in merge order: the file itself, or a directory's sorted `*.yaml` files.
    public static func configFiles(path: String) -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return [path] }
        return BrokerConfiguration.files(at: path, isDirectory: isDir.boolValue)
    }

    /// The hash of the configuration at `path` (``sha256(files:)`` over ``configFiles(path:)``).
    public static func configHash(path: String) -> String { sha256(files: configFiles(path: path)) }
}

/// What set off a reload: the operator's SIGHUP, or a changed file.
public enum ReloadTrigger: String, Sendable {
    /// SIGHUP.
    case signal
    /// A configuration file changed.
    case file
    /// `server.http.auth.api_keys_file` changed (a key rotation).
    case apiKeysFile = "api_keys_file"
    /// `server.http.auth.jwt.jwks_file` changed (a signing key rotation).
    case jwksFile = "jwks_file"
    /// The file behind `server.request_state.key` changed (the confirmation-state key was rotated).
    case requestStateKeyFile = "request_state_key_file"
}

/// The hashes the file watch compares between polls.
public struct WatchedHashes: Sendable, Equatable {
    public var config: String
    public var apiKeys: String?
    public var jwks: String?
    /// The hash of the `server.request_state.key` file (a digest of a random key of at least 32 bytes, kept in
    /// memory only, tells nothing of it); `nil` for a key from the environment or none.
    public var requestStateKey: String?

    public init(config: String, apiKeys: String? = nil, jwks: String? = nil, requestStateKey: String? = nil) {
        self.config = config
        self.apiKeys = apiKeys
        self.jwks = jwks
        self.requestStateKey = requestStateKey
    }

    /// Hashes the configuration at `path` and the key files `settings` names.
    public static func read(path: String, settings: ServerSettings) -> WatchedHashes {
        var stateKey: String?
        // The previous key's file too: dropping or replacing it after a rotation must take effect by itself.
        let keyFiles = [settings.requestState.key, settings.requestState.previousKey].compactMap { ref -> String? in
            if case .file(let file)? = ref?.source { return file }
            return nil
        }
        if !keyFiles.isEmpty { stateKey = ConfigDigest.sha256(files: keyFiles) }
        return WatchedHashes(
            config: ConfigDigest.configHash(path: path),
            apiKeys: settings.http.auth?.apiKeysFile.map { ConfigDigest.sha256(files: [$0]) },
            jwks: settings.http.auth?.jwt?.jwksFile.map { ConfigDigest.sha256(files: [$0]) }, requestStateKey: stateKey)
    }

    /// Why `new` calls for a reload, or `nil` when nothing changed. A configuration change wins: it re-reads all.
    public func trigger(comparedTo old: WatchedHashes) -> ReloadTrigger? {
        if config != old.config { return .file }
        if apiKeys != old.apiKeys { return .apiKeysFile }
        if jwks != old.jwks { return .jwksFile }
        if requestStateKey != old.requestStateKey { return .requestStateKeyFile }
        return nil
    }
}
