// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Crypto
import CryptoExtras
import Foundation
import JWTKit
import MCPCore

@testable import BrokerAuth

/// An identity provider for tests: generated keys, their public JWKS, and tokens signed with jwt-kit.
struct TestIssuer {
    static let issuer = "https://idp.example.com"
    static let audience = "https://broker.example.com/mcp"

    let keys = JWTKeyCollection()
    /// kid → public JWK as JSON.
    private(set) var publicJWKs: [String: JSONValue] = [:]
    /// The RSA public key PEM (the "secret" of the HMAC confusion attack).
    private(set) var rsaPublicPEM: [String: String] = [:]

    static func make() async throws -> TestIssuer {
        var issuer = TestIssuer()
        try await issuer.addRSA(kid: "rsa-1")
        try await issuer.addEC(kid: "ec-1")
        try await issuer.addEdDSA(kid: "ed-1")
        return issuer
    }

    mutating func addRSA(kid: String) async throws {
        let key = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        await keys.add(rsa: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        let (n, e) = try key.publicKey.getKeyPrimitives()
        publicJWKs[kid] = ["kty": "RSA", "kid": .string(kid), "use": "sig", "n": .string(b64(n)), "e": .string(b64(e))]
        rsaPublicPEM[kid] = key.publicKey.pemRepresentation
    }

    mutating func addEC(kid: String) async throws {
        let key = try ES256PrivateKey(backing: P256.Signing.PrivateKey())
        await keys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        let params = try XCTUnwrapParameters(key.parameters)
        publicJWKs[kid] = ["kty": "EC", "kid": .string(kid), "crv": "P-256", "alg": "ES256", "x": .string(params.x), "y": .string(params.y)]
    }

    mutating func addEdDSA(kid: String) async throws {
        let backing = Curve25519.Signing.PrivateKey()
        await keys.add(eddsa: EdDSA.PrivateKey(backing: backing), kid: JWKIdentifier(string: kid))
        publicJWKs[kid] = ["kty": "OKP", "kid": .string(kid), "crv": "Ed25519", "x": .string(b64(backing.publicKey.rawRepresentation))]
    }

    /// The JWKS document holding the public keys named (all when `kids` is nil).
    func jwks(_ kids: [String]? = nil) -> String {
        let chosen = (kids ?? publicJWKs.keys.sorted()).compactMap { publicJWKs[$0] }
        return JSONValue.object(["keys": .array(chosen)]).jsonText
    }

    /// Claims of a token the default test settings accept.
    static func claims(_ overrides: [String: JSONValue] = [:], removing: [String] = []) -> [String: JSONValue] {
        let now = Int64(Date().timeIntervalSince1970)
        var c: [String: JSONValue] = [
            "iss": .string(issuer), "aud": .string(audience), "sub": "alice", "tenant": "acme",
            "roles": ["analyst", "viewer"], "region": "eu", "clearance": 3, "exp": .int(now + 300), "iat": .int(now),
            "scope": "mcp:tools openid",
        ]
        for (k, v) in overrides { c[k] = v }
        for k in removing { c[k] = nil }
        return c
    }

    /// A token signed by jwt-kit with the key `kid`; `alg` is taken from that key unless overridden.
    func token(
        kid: String, claims: [String: JSONValue] = TestIssuer.claims(), header extra: [String: JSONValue] = [:],
        removingHeader: [String] = []
    ) async throws -> String {
        let signer = try await keys.getKey(for: JWKIdentifier(string: kid))
        var header: [String: JSONValue] = ["alg": .string(signer.name), "typ": "JWT", "kid": .string(kid)]
        for (k, v) in extra { header[k] = v }
        for k in removingHeader { header[k] = nil }
        let input = Self.encode(.object(header)) + "." + Self.encode(.object(claims))
        return input + "." + Base64URL.encode(try signer.sign(Array(input.utf8)))
    }

    static func encode(_ json: JSONValue) -> String { Base64URL.encode(JSONWriter.encode(json)) }

    private func b64(_ data: Data) -> String { Base64URL.encode(Array(data)) }
}

private struct MissingParameters: Error {}

private func XCTUnwrapParameters(_ p: ECDSAParameters?) throws -> ECDSAParameters {
    guard let p else { throw MissingParameters() }
    return p
}
