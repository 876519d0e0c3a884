// SPDX-License-Identifier: Apache-2.0

/// A JSON-RPC error object: a protocol fault, as opposed to a tool failure (which is an `isError` result).
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Numeric JSON-RPC code.
    public var code: Int
    /// Client-safe message.
    public var message: String
    /// Optional structured detail (e.g. `{uri}` for resource-not-found).
    public var data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public var description: String { "JSON-RPC error \(code): \(message)" }

    /// The wire form `{code, message, data?}`.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["code": .int(Int64(code)), "message": .string(message)]
        if let data { o["data"] = data }
        return .object(o)
    }

    /// -32700: the body is not JSON.
    public static func parseError(_ detail: String) -> RPCError { RPCError(code: -32700, message: "Parse error: \(detail)") }
    /// -32600: JSON, but not a valid JSON-RPC message.
    public static func invalidRequest(_ detail: String) -> RPCError { RPCError(code: -32600, message: "Invalid request: \(detail)") }
    /// -32601: unknown method or undeclared capability.
    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(code: -32601, message: "Method not found: \(method.prefix(100))")
    }
    /// -32602: bad params, unknown tool or prompt, invalid cursor.
    public static func invalidParams(_ detail: String) -> RPCError { RPCError(code: -32602, message: detail) }
    /// -32603: a server fault; the message never carries internals.
    public static func internalError(correlationID: String) -> RPCError {
        RPCError(code: -32603, message: "Internal error (correlation id \(correlationID))", data: ["correlationId": .string(correlationID)])
    }
    /// -32020 (2026-07-28): an HTTP routing header disagrees with the body, is missing, or is repeated.
    public static func headerMismatch(_ detail: String) -> RPCError { RPCError(code: -32020, message: "Header mismatch: \(detail)") }
    /// -32022 (2026-07-28): the requested protocol version is not served; `data` lists what is.
    public static func unsupportedProtocolVersion(_ requested: String, supported: [String] = ProtocolVersion.all) -> RPCError {
        RPCError(
            code: -32022, message: "Unsupported protocol version '\(requested.prefix(40))'; supported: \(supported.joined(separator: ", "))",
            data: ["supported": .array(supported.map(JSONValue.string)), "requested": .string(String(requested.prefix(200)))])
    }
    /// -32002: resource not found (2025-11-25).
    public static func resourceNotFound(_ uri: String) -> RPCError {
        RPCError(code: -32002, message: "Resource not found: \(uri.prefix(200))", data: ["uri": .string(uri)])
    }
}

/// Standard JSON-RPC and MCP error codes.
public enum RPCErrorCode {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
    public static let resourceNotFound = -32002
    /// 2026-07-28 codes (the spec reserves -32020…-32099).
    public static let headerMismatch = -32020
    public static let missingRequiredClientCapability = -32021
    public static let unsupportedProtocolVersion = -32022
}
