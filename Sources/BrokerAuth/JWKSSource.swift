// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Where the issuer's signing keys come from: a JWKS file on disk or a JWKS URL.
///
/// Each ``fetch()`` reads the source again, so rotated keys (a re-rendered file, a new document at the URL) are
/// picked up without a restart.
struct JWKSSource: Sendable, CustomStringConvertible {
    enum Location: Sendable {
        case file(String)
        case url(URL)
    }

    /// A JWKS is a handful of public keys; anything larger is a misconfiguration or hostile.
    static let maxBytes = 1 << 20
    /// The daemon's requests wait on a refresh, so a slow key server must not hold them long.
    static let timeoutSeconds: TimeInterval = 5

    let location: Location

    init(location: Location) { self.location = location }

    /// From the JWT settings: exactly one of `jwksFile` and `jwksURL` (configuration loading guarantees it).
    init(file: String?, url: String?) throws(JWKSLoadError) {
        if let file {
            location = .file(file)
        } else if let url, KeySetURL.isAllowed(url), let u = URL(string: url) {
            location = .url(u)
        } else {
            throw JWKSLoadError("no usable jwks_file or jwks_url is configured")
        }
    }

    var description: String {
        switch location {
        case .file(let path): return "jwks_file \(path)"
        case .url(let url): return "jwks_url \(url.absoluteString)"
        }
    }

    /// The raw JWKS document.
    func fetch() async throws(JWKSLoadError) -> [UInt8] {
        switch location {
        case .file(let path): return try Self.read(path: path)
        case .url(let url): return try await JWKSDownload.fetch(url, maxBytes: Self.maxBytes, timeout: Self.timeoutSeconds)
        }
    }

    // A bounded read of a small local file: cheap enough to do on the calling task, and it happens at most once
    // per refresh interval.
    private static func read(path: String) throws(JWKSLoadError) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw JWKSLoadError("cannot open \(path)") }
        defer { try? handle.close() }
        let data: Data?
        do { data = try handle.read(upToCount: maxBytes + 1) } catch { throw JWKSLoadError("cannot read \(path)") }
        let bytes = [UInt8](data ?? Data())
        guard bytes.count <= maxBytes else { throw JWKSLoadError("\(path) is larger than \(maxBytes) bytes") }
        return bytes
    }
}

/// A JWKS that could not be fetched or used. Names the source and the reason, never key material.
public struct JWKSLoadError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
