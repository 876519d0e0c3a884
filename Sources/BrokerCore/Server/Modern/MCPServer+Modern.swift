// SPDX-License-Identifier: Apache-2.0

import MCPCore

extension MCPServer {
    /// The methods a 2026-07-28 request may call. `initialize`, `ping`, `logging/setLevel` and resource
    /// subscriptions are gone in that revision; `subscriptions/listen` is a stream, served by the transports
    /// (``ListenStream``).
    func dispatchModern(_ request: RPCRequest, session: Session, principal: Principal, notify: OutboundSink?) async -> Result<JSONValue, RPCError> {
        let params = request.params ?? [:]
        switch request.method {
        case "server/discover": return .success(discover())
        case "initialize":
            // A modern connection refuses the handshake, naming the versions it does serve (spec 2.3).
            let requested = params["protocolVersion"]?.stringValue ?? ""
            return .failure(.unsupportedProtocolVersion(requested, supported: ProtocolVersion.modern))
        case "tools/list": return listTools(params, principal: principal)
        case "tools/call": return await callTool(request, session: session, principal: principal, notify: notify).result.map(\.value)
        case "resources/list": return listResources(params, principal: principal)
        case "resources/templates/list": return listResourceTemplates(params, principal: principal)
        case "resources/read":
            // 2026-07-28 retired -32002: a missing resource is invalid params, still naming the URI.
            return await readResource(params, principal: principal).mapError { error in
                error.code == RPCErrorCode.resourceNotFound ? RPCError(code: RPCErrorCode.invalidParams, message: error.message, data: error.data) : error
            }
        case "prompts/list": return listPrompts(params, principal: principal)
        case "prompts/get": return await getPrompt(params, principal: principal)
        default: return .failure(.methodNotFound(request.method))
        }
    }

    /// `server/discover`: the same for every caller (lists are not part of it), so `public`; `ttlMs` 0 because a
    /// reload can change the instructions.
    func discover() -> JSONValue {
        var result: [String: JSONValue] = [
            "resultType": "complete",
            "supportedVersions": .array(ProtocolVersion.all.map(JSONValue.string)),
            "capabilities": Self.capabilities,
            "instructions": .string(settings.instructions ?? defaultInstructions()),
            "ttlMs": 0,
            "cacheScope": "public",
        ]
        result["_meta"] = [RequestEnvelope.Key.serverInfo: modern.serverInfo]
        return .object(result)
    }

}
