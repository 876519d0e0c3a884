// SPDX-License-Identifier: Apache-2.0

import Crypto
import MCPCore

/// What a sealed requestState is bound to.
///
/// A state opens only for the same tenant, principal, tool and arguments it was issued for: a confirmation a user
/// gave for one call cannot be carried over to another principal's call, another tool, or changed arguments.
public struct RequestStateBinding: Sendable, Equatable {
    /// The tenant of the calling principal.
    public var tenant: String
    /// The calling principal's stable identity (for JWTs, what identifies the subject and client).
    public var principal: String
    /// The tool name as the client called it.
    public var tool: String
    /// ``digest(of:)`` of the call's arguments.
    public var argumentsDigest: String

    /// A binding of the four fields.
    public init(tenant: String, principal: String, tool: String, argumentsDigest: String) {
        self.tenant = tenant
        self.principal = principal
        self.tool = tool
        self.argumentsDigest = argumentsDigest
    }

    /// SHA-256 (lowercase hex) of the canonical JSON of `arguments`.
    ///
    /// `JSONWriter` writes object keys sorted at every depth, so the digest does not depend on the order the client
    /// sent the keys in; any changed value changes it.
    public static func digest(of arguments: [String: JSONValue]) -> String {
        Hex.lowercase(SHA256.hash(data: JSONWriter.encode(.object(arguments))))
    }
}
