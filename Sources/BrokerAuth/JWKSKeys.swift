// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import JWTKit
import MCPCore

/// One verification key from the JWKS, bound to the single algorithm it may be used with.
struct VerificationKey: Sendable {
    /// `RS256`, `ES256` or `EdDSA`: the key's own `alg`, or the only one its type allows among ours.
    let algorithm: String
    let verifier: any JWTAlgorithm
}

/// Turns a JWKS document into verification keys by `kid`.
///
/// The JWKS is read with our JSON parser, not jwt-kit's `JWKS` decoder, because a single key of a type jwt-kit does
/// not know (an `oct` or encryption key in the IdP's set) would fail the whole document. Keys we cannot use are
/// skipped and reported; only public members are passed on, so a JWKS that wrongly carries private parts never
/// yields a signing key.
enum JWKSKeys {
    /// A parsed key set and the reasons keys were skipped (for the log).
    struct Parsed: Sendable {
        var keys: [String: VerificationKey] = [:]
        var skipped: [String] = []
    }

    /// - Parameter allowed: the configured algorithm allowlist; keys for other algorithms are skipped.
    static func parse(_ document: [UInt8], allowed: Set<String>) async throws(JWKSLoadError) -> Parsed {
        let root: JSONValue
        do { root = try JSONParser.parse(document) } catch { throw JWKSLoadError("JWKS is not valid JSON: \(error.description)") }
        guard let list = root["keys"]?.arrayValue else { throw JWKSLoadError("JWKS has no \"keys\" array") }
        var out = Parsed()
        for (index, entry) in list.enumerated() {
            let kid = entry["kid"]?.stringValue
            let label = kid.map { "key \($0)" } ?? "key #\(index)"
            do {
                guard let kid, !kid.isEmpty else { throw JWKSLoadError("has no kid") }
                guard out.keys[kid] == nil else { throw JWKSLoadError("repeats a kid already in the set") }
                if let use = entry["use"], use.stringValue != "sig" { throw JWKSLoadError("is not a signing key") }
                let (jwk, alg) = try makeJWK(entry, kid: kid, allowed: allowed)
                let collection = JWTKeyCollection()
                try await collection.add(jwk: jwk)
                let verifier = try await collection.getKey(for: JWKIdentifier(string: kid))
                // jwt-kit derived the signer from the JWK's alg; it must be exactly the one we bound the key to.
                guard verifier.name == alg else { throw JWKSLoadError("resolved to \(verifier.name), expected \(alg)") }
                out.keys[kid] = VerificationKey(algorithm: alg, verifier: verifier)
            } catch let error as JWKSLoadError {
                out.skipped.append("\(label) \(error.reason)")
            } catch {
                out.skipped.append("\(label) has unusable key material")
            }
        }
        return out
    }

    private static func makeJWK(_ e: JSONValue, kid: String, allowed: Set<String>) throws(JWKSLoadError) -> (JWK, String) {
        let declared = e["alg"]?.stringValue
        func bind(_ natural: String) throws(JWKSLoadError) -> String {
            let alg = declared ?? natural
            guard alg == natural else { throw JWKSLoadError("declares alg \(alg), which its key type cannot use here") }
            guard allowed.contains(alg) else { throw JWKSLoadError("is for \(alg), which is not in the allowed algorithms") }
            return alg
        }
        let id = JWKIdentifier(string: kid)
        switch e["kty"]?.stringValue {
        case "RSA":
            let alg = try bind("RS256")
            guard let n = e["n"]?.stringValue, let exp = e["e"]?.stringValue, let modulus = Base64URL.decode(n) else {
                throw JWKSLoadError("lacks RSA n or e")
            }
            // RSA below 2048 bits is breakable; an issuer still publishing such a key is not to be trusted.
            guard modulus.drop(while: { $0 == 0 }).count >= 256 else {
                throw JWKSLoadError("is an RSA key shorter than 2048 bits")
            }
            return (JWK.rsa(.rs256, identifier: id, modulus: n, exponent: exp), alg)
        case "EC":
            let alg = try bind("ES256")
            guard e["crv"]?.stringValue == "P-256" else { throw JWKSLoadError("is an EC key not on P-256") }
            guard let x = e["x"]?.stringValue, let y = e["y"]?.stringValue else { throw JWKSLoadError("lacks EC x or y") }
            return (JWK.ecdsa(.es256, identifier: id, x: x, y: y, curve: .p256), alg)
        case "OKP":
            let alg = try bind("EdDSA")
            guard e["crv"]?.stringValue == "Ed25519" else { throw JWKSLoadError("is an OKP key not on Ed25519") }
            guard let x = e["x"]?.stringValue else { throw JWKSLoadError("lacks OKP x") }
            return (JWK.octetKeyPair(.eddsa, identifier: id, x: x, y: nil, curve: .ed25519), alg)
        case let kty:
            throw JWKSLoadError("has unsupported kty \(kty ?? "(none)")")
        }
    }
}
