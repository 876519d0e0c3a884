// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore
import Synchronization

extension MCPServer {
    func listTools(_ params: [String: JSONValue], principal: Principal) -> Result<JSONValue, RPCError> {
        ListCursor.page(visible.lists(for: principal).tools, key: "tools", list: "tools", params: params, pageSize: settings.pageSize)
    }

    /// Whether a `tools/call` must be answered on a stream: it may send progress or log notifications, or ask
    /// the user to confirm through elicitation. A confirm tool the principal may not see is answered like an unknown
    /// tool — as plain JSON — so the transport's choice of framing cannot reveal that it exists.
    public func needsStream(_ request: RPCRequest, session: Session, principal: Principal) -> Bool {
        guard request.method == "tools/call" else { return false }
        if request.progressToken != nil || session.logLevel != nil { return true }
        // A 2026-07-28 confirmation is a plain result (MRTR), not a request on the stream.
        guard !session.isModern, let name = request.params?["name"]?.stringValue, settings.policy.tools[name]?.confirm == true else { return false }
        guard case .allow = settings.policy.visibility(of: name, for: principal) else { return false }
        return true
    }

    /// Parses a `tools/call` and runs it through this generation's ``CallPipeline``.
    func callTool(_ request: RPCRequest, session: Session, principal: Principal, notify: OutboundSink?) async -> ToolCallReply {
        let params = request.params ?? [:]
        guard let name = params["name"]?.stringValue else { return Self.invalidCall("tools/call needs a string 'name'") }
        let arguments: [String: JSONValue]
        switch params["arguments"] {
        case nil, .null?: arguments = [:]
        case .object(let o)?: arguments = o
        default: return Self.invalidCall("'arguments' must be an object")
        }
        return await pipeline.run(name: name, arguments: arguments, request: request, session: session, principal: principal, notify: notify)
    }

    /// A `tools/call` whose params are malformed: no tool was named, so none is counted.
    static func invalidCall(_ message: String) -> ToolCallReply {
        let error = RPCError.invalidParams(message)
        return ToolCallReply(result: .failure(error), toolLabel: MetricLabels.unknownTool, errorType: MetricLabels.rpcCode(error))
    }

    /// The one answer for a name nobody may call: unknown and hidden tools must be indistinguishable.
    static func unknownTool(_ name: String) -> RPCError { .invalidParams("Unknown tool: \(name.prefix(100))") }

    static func ms(since start: ContinuousClock.Instant) -> String {
        let micros = (ContinuousClock.now - start) / .microseconds(1)
        return String(format3(micros / 1000))
    }

    /// `v` to three decimals. Any Double: a `Retry-After` comes from a backend and may be absurdly large, so a value
    /// that does not fit an Int after scaling is written as it is instead of trapping.
    static func format3(_ v: Double) -> String {
        guard let thousandths = Int(exactly: (v * 1000).rounded()) else { return String(v) }
        return String(Double(thousandths) / 1000)
    }

    /// An `isError` result: the safe message plus code and correlation id, also as `_meta` for programs.
    static func errorResult(_ error: BrokerError, correlationID: String) -> JSONValue {
        var text = error.message
        var tags = [error.code.rawValue]
        if error.isRetriable { tags.append("retriable") }
        if let r = error.retryAfterSeconds { tags.append("retry after \(format3(r)) s") }
        tags.append("correlation id \(correlationID)")
        text += " [\(tags.joined(separator: "; "))]"
        var meta: [String: JSONValue] = [
            "code": .string(error.code.rawValue), "retriable": .bool(error.isRetriable), "correlationId": .string(correlationID),
        ]
        if let b = error.backend { meta["backend"] = .string(b) }
        if let r = error.retryAfterSeconds { meta["retryAfterSeconds"] = .double(r) }
        guard case .object(var o) = CallToolResult(content: [.text(text)], isError: true).json else { return .null }
        o["_meta"] = ["mcp-broker/error": .object(meta)]
        return .object(o)
    }

    static func makeNotifier(request: RPCRequest, session: Session, notify: OutboundSink?, state: NotifierState) -> ClientNotifier {
        guard let notify else { return .none }
        var progress: (@Sendable (Double, Double?, String?) async -> Void)?
        if let token = request.progressToken {
            progress = { value, total, message in
                // MCP requires strictly increasing progress, and none after the response.
                guard state.advance(to: value) else { return }
                var p: [String: JSONValue] = ["progressToken": token, "progress": .double(value)]
                if let total { p["total"] = .double(total) }
                if let message { p["message"] = .string(message) }
                await notify(RPCEncoding.notification(RPCNotification(method: "notifications/progress", params: p)))
            }
        }
        let log: @Sendable (LogLevel, String, JSONValue) async -> Void = { level, name, data in
            guard let minimum = session.logLevel, level >= minimum, state.isOpen else { return }
            await notify(
                RPCEncoding.notification(
                    RPCNotification(method: "notifications/message", params: ["level": .string(level.rawValue), "logger": .string(name), "data": data])))
        }
        return ClientNotifier(progress: progress, log: log)
    }
}

/// Per-call notification state: the last progress value, and whether the call has finished.
final class NotifierState: Sendable {
    private let state = Mutex<(last: Double, open: Bool)>((-Double.infinity, true))

    func advance(to value: Double) -> Bool {
        state.withLock { s in
            guard s.open, value > s.last else { return false }
            s.last = value
            return true
        }
    }

    var isOpen: Bool { state.withLock { $0.open } }
    func finish() { state.withLock { $0.open = false } }
}
