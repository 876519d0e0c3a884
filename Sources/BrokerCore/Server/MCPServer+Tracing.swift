// SPDX-License-Identifier: Apache-2.0

import MCPCore
import Tracing

/// The server span of one MCP request (OpenTelemetry MCP semantic conventions).
extension MCPServer {
    /// Runs `body` inside the request's server span, named `{mcp.method.name} {target}`.
    ///
    /// The parent is `params._meta.traceparent` when valid (the MCP convention wins), else what the transport bound
    /// (the HTTP request's `traceparent`), else a new trace. The span is current while `body` runs, so the call's
    /// correlation id, log lines and backend requests all carry its trace id.
    func withServerSpan<R: Sendable>(_ request: RPCRequest, session: Session, _ body: @Sendable (any Span) async -> R) async -> R {
        let inherited = ServiceContext.current ?? .topLevel
        let parent =
            request.params?["_meta"]?.objectValue.flatMap { TracePropagation.extracting($0, using: MetaExtractor(), into: inherited) } ?? inherited
        // The name only matters to an exporter; without one the catalogue lookup for it is skipped.
        let target = ChildSpans.areRecorded ? spanTarget(request) : nil
        let name = target.map { "\(request.method) \($0)" } ?? request.method
        return await withSpan(name, context: parent, ofKind: .server) { span in
            if span.isRecording {
                var attributes: SpanAttributes = [:]
                attributes["mcp.method.name"] = request.method
                attributes["jsonrpc.request.id"] = request.id.description
                attributes["network.transport"] = parent[NetworkTransportKey.self] ?? "pipe"
                if let version = session.protocolVersion { attributes["mcp.protocol.version"] = version }
                if let target {
                    if request.method == "tools/call" {
                        attributes["gen_ai.tool.name"] = target
                        attributes["gen_ai.operation.name"] = "execute_tool"
                    } else {
                        attributes["gen_ai.prompt.name"] = target
                    }
                }
                span.attributes = attributes
            }
            return await body(span)
        }
    }

    /// The low-cardinality target of the span name: a tool or prompt the catalogue knows. Unknown names are client
    /// input and stay out of span names.
    func spanTarget(_ request: RPCRequest) -> String? {
        guard let name = request.params?["name"]?.stringValue else { return nil }
        switch request.method {
        case "tools/call": return catalog.tool(named: name) != nil ? name : nil
        case "prompts/get": return catalog.prompt(named: name) != nil ? name : nil
        default: return nil
        }
    }

    /// Marks the span failed: a protocol error carries its JSON-RPC code, an `isError` tool result its business code.
    static func noteOutcome(_ reply: Result<MethodResult, RPCError>, on span: any Span) {
        guard span.isRecording else { return }
        switch reply {
        case .failure(let error):
            span.attributes["error.type"] = String(error.code)
            span.attributes["rpc.response.status_code"] = String(error.code)
            span.setStatus(SpanStatus(code: .error))
        case .success(.value(let value)) where value["isError"]?.boolValue == true:
            span.attributes["error.type"] = value["_meta"]?["mcp-broker/error"]?["code"]?.stringValue ?? "tool_error"
            span.setStatus(SpanStatus(code: .error))
        case .success:
            break
        }
    }
}
