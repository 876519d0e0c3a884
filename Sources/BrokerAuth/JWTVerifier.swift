// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import JWTKit
import Logging
import MCPCore
import Synchronization

/// Verifies compact JWS bearer tokens against the issuer's JWKS and maps their claims to a ``Principal``.
///
/// The header is read by us, before jwt-kit sees anything: the algorithm must be on the allowlist and equal to
/// the algorithm the key is bound to, so `none`, HMAC and algorithm-confusion tokens fail whatever keys exist.
/// jwt-kit supplies only the signature primitive of each key.
final class JWTVerifier: Sendable {
    private struct KeyState {
        var keys: [String: VerificationKey] = [:]
        var lastRefresh: ContinuousClock.Instant?
        var inFlight: Task<Void, Never>?
        var refreshCount = 0
    }

    let settings: JWTSettings
    private let source: JWKSSource
    private let allowed: Set<String>
    private let logger: Logger
    private let state = Mutex(KeyState())
    /// Tokens already verified, until their expiry or `verifiedFor`, whichever is first: a client sends the same
    /// token on every request, and the signature check was most of the cost of authenticating it.
    private let verified = Mutex<[String: (principal: Principal, until: Double)]>([:])
    static let verifiedFor = 60.0
    static let maxVerified = 10_000

    init(settings: JWTSettings, source: JWKSSource, logger: Logger) {
        self.settings = settings
        self.source = source
        self.allowed = Set(settings.algorithms).intersection(JWTSettings.permittedAlgorithms)
        self.logger = logger
    }

    /// Loads the key set for the first time.
    /// - Throws: when the JWKS cannot be fetched or parsed, or holds no usable key.
    func loadInitial() async throws(JWKSLoadError) {
        let keys: [String: VerificationKey]
        do { keys = try await load() } catch { throw JWKSLoadError("\(source): \(error.reason)") }
        state.withLock {
            $0.keys = keys
            $0.lastRefresh = .now
        }
    }

    /// How many refreshes ran (initial load excluded); for tests of the single-flight and rate limit.
    var refreshCount: Int { state.withLock { $0.refreshCount } }

    /// Verifies `token` and yields its principal, or the challenge to answer with.
    func verify(_ token: String) async -> Result<Principal, AuthChallenge> {
        let now = Date().timeIntervalSince1970
        if let hit = verified.withLock({ $0[token] }), hit.until > now { return .success(hit.principal) }
        let result = await verifyUncached(token, now: now)
        if case .success(let principal) = result, let exp = Self.expiry(of: token) {
            let until = min(exp + Double(settings.clockSkewSeconds), now + Self.verifiedFor)
            verified.withLock { v in
                if v.count >= Self.maxVerified { v.removeAll() }
                v[token] = (principal, until)
            }
        }
        return result
    }

    /// `exp` of a token that has just been verified (so its payload is known to be well formed).
    static func expiry(of token: String) -> Double? {
        let parts = Array(token.utf8).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(parts[1]), let claims = try? JSONParser.parse(payload) else { return nil }
        return claims["exp"]?.doubleValue
    }

    private func verifyUncached(_ token: String, now: Double) async -> Result<Principal, AuthChallenge> {
        let bytes = Array(token.utf8)
        guard bytes.count <= settings.maxTokenBytes else { return .failure(.invalidToken("token too large")) }
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .failure(.invalidToken("token is not a compact JWS")) }
        guard let header = Self.jsonObject(parts[0]) else { return .failure(.invalidToken("token header is malformed")) }
        guard let alg = header["alg"]?.stringValue else { return .failure(.invalidToken("token header names no algorithm")) }
        guard allowed.contains(alg) else { return .failure(.invalidToken("algorithm not allowed")) }
        // RFC 7515 §4.1.11: a recipient that does not understand a critical extension must refuse the token.
        guard header["crit"] == nil else {
            return .failure(.invalidToken("token has critical header parameters this server does not support"))
        }
        guard let kid = header["kid"]?.stringValue, !kid.isEmpty else {
            return .failure(.invalidToken("token header names no key id"))
        }
        guard let key = await key(for: kid) else { return .failure(.invalidToken("unknown signing key")) }
        guard key.algorithm == alg else { return .failure(.invalidToken("algorithm does not match the signing key")) }

        let signingInput = bytes[..<(parts[0].count + 1 + parts[1].count)]
        guard let signature = Base64URL.decode(parts[2]), !signature.isEmpty,
            (try? key.verifier.verify(signature, signs: signingInput)) == true
        else { return .failure(.invalidToken("bad signature")) }

        guard let claims = Self.jsonObject(parts[1]) else { return .failure(.invalidToken("token payload is malformed")) }
        return TokenClaims(settings: settings).principal(from: claims, now: now)
    }

    /// A base64url segment holding a JSON object, or `nil`.
    private static func jsonObject(_ segment: ArraySlice<UInt8>) -> JSONValue? {
        guard let bytes = Base64URL.decode(segment), let value = try? JSONParser.parse(bytes) else { return nil }
        return value.objectValue != nil ? value : nil
    }

    /// The key for `kid`, refreshing the key set once if it is unknown.
    private func key(for kid: String) async -> VerificationKey? {
        if let key = state.withLock({ $0.keys[kid] }) { return key }
        await refresh()
        return state.withLock { $0.keys[kid] }
    }

    /// Re-reads the JWKS: single-flight (concurrent callers await the same refresh) and at most once per
    /// `refreshMinIntervalSeconds`, so a flood of tokens with made-up key ids cannot hammer the key server.
    private func refresh() async {
        let interval = Duration.seconds(settings.refreshMinIntervalSeconds)
        let task: Task<Void, Never>? = state.withLock { s in
            if let running = s.inFlight { return running }
            if let last = s.lastRefresh, ContinuousClock.now - last < interval { return nil }
            // Counted from the start, so a failing key server is also asked only once per interval.
            s.lastRefresh = .now
            s.refreshCount += 1
            let t = Task { await self.performRefresh() }
            s.inFlight = t
            return t
        }
        await task?.value
    }

    private func performRefresh() async {
        do {
            let keys = try await load()
            state.withLock {
                $0.keys = keys
                $0.inFlight = nil
            }
            logger.info("JWKS refreshed", metadata: ["source": "\(source)", "keys": "\(keys.count)"])
        } catch {
            // Keep the keys we have: a key server hiccup must not lock everyone out.
            state.withLock { $0.inFlight = nil }
            logger.warning(
                "JWKS refresh failed; keeping the previous keys", metadata: ["source": "\(source)", "reason": "\(error.reason)"])
        }
    }

    private func load() async throws(JWKSLoadError) -> [String: VerificationKey] {
        let parsed = try await JWKSKeys.parse(try await source.fetch(), allowed: allowed)
        for reason in parsed.skipped {
            logger.warning("JWKS key skipped", metadata: ["source": "\(source)", "reason": "\(reason)"])
        }
        guard !parsed.keys.isEmpty else { throw JWKSLoadError("JWKS holds no usable signing key") }
        return parsed.keys
    }
}
