// SPDX-License-Identifier: Apache-2.0

import Foundation
import HTTPTypes
import Hummingbird
import MCPCore
import NIOCore

/// The HTTP rules of MCP 2026-07-28 that sit between the body and the server: routing headers that must agree with
/// the body, and the HTTP status each JSON-RPC error gets. Pure functions, so every rule is unit-tested.
enum ModernRouting {
    /// `Mcp-Name` mirrors this `params` key for these methods.
    static let nameBearing: [String: String] = ["tools/call": "name", "prompts/get": "name", "resources/read": "uri"]

    /// The envelope ladder (spec 2.1, 2.8), first failure wins: an envelope must be present (-32602), the routing
    /// headers must be single and equal the body (-32020), and the version must be one we serve (-32022).
    static func check(_ request: RPCRequest, headers: HTTPFields) -> Result<RequestEnvelope, RPCError> {
        for name in [MCPHeader.protocolVersion, MCPHeader.mcpMethod, MCPHeader.mcpName] where headers[values: name].count > 1 {
            return .failure(.headerMismatch("\(name.canonicalName) appears more than once"))
        }
        guard case .object(let meta)? = request.params?["_meta"],
            meta[RequestEnvelope.Key.protocolVersion] != nil, meta[RequestEnvelope.Key.clientCapabilities] != nil
        else {
            return RequestEnvelope.parse(request.params)
        }
        guard let version = headers.value(MCPHeader.protocolVersion), meta[RequestEnvelope.Key.protocolVersion] == .string(version) else {
            return .failure(.headerMismatch("MCP-Protocol-Version must equal params._meta[\"\(RequestEnvelope.Key.protocolVersion)\"]"))
        }
        guard headers.value(MCPHeader.mcpMethod).flatMap(decode) == request.method else {
            return .failure(.headerMismatch("Mcp-Method must equal the body's method"))
        }
        if let key = nameBearing[request.method] {
            guard let header = headers.value(MCPHeader.mcpName), let named = decode(header), request.params?[key] == .string(named) else {
                return .failure(.headerMismatch("Mcp-Name must equal params.\(key)"))
            }
        }
        return RequestEnvelope.parse(request.params)
    }

    /// A header value as sent, or the text inside the `=?base64?…?=` sentinel clients use for values that are not
    /// plain printable ASCII; `nil` for a malformed sentinel (it then matches nothing).
    static func decode(_ value: String) -> String? {
        guard value.hasPrefix("=?base64?"), value.hasSuffix("?="), value.utf8.count >= 11 else { return value }
        let payload = String(value.dropFirst(9).dropLast(2))
        guard let data = Data(base64Encoded: payload), data.base64EncodedString() == payload else { return nil }
        return String(bytes: data, encoding: .utf8)
    }

    /// The status of a 2026-07-28 JSON-RPC error (spec MUSTs for the 400s and the 404; everything else rides in 200).
    static func status(for code: Int?) -> HTTPResponse.Status {
        switch code {
        case RPCErrorCode.parseError?, RPCErrorCode.invalidRequest?, RPCErrorCode.invalidParams?, RPCErrorCode.headerMismatch?,
            RPCErrorCode.missingRequiredClientCapability?, RPCErrorCode.unsupportedProtocolVersion?:
            return .badRequest
        case RPCErrorCode.methodNotFound?: return .notFound
        default: return .ok
        }
    }

    /// A JSON-RPC error answered with its 2026 status.
    static func error(_ error: RPCError, id: MCPCore.RequestID?) -> Response {
        Response(
            status: status(for: error.code), headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: RPCEncoding.error(id: id, error))))
    }
}
