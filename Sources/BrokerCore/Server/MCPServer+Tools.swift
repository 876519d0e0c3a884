// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore
import Synchronization

extension MCPServer {
    func listTools(_ params: [String: JSONValue]) -> Result<JSONValue, RPCError> {
        ListCursor.page(catalog.toolListEntries, key: "tools", list: "tools", params: params, pageSize: settings.pageSize)
    }

    func callTool(_ request: RPCRequest, session: Session, principal: Principal, notify: NotificationSink?) async -> Result<JSONValue, RPCError> {
        let params = request.params ?? [:]
        guard let name = params["name"]?.stringValue else { return .failure(.invalidParams("tools/call needs a string 'name'")) }
        let arguments: [String: JSONValue]
        switch params["arguments"] {
        case nil, .null?: arguments = [:]
        case .object(let o)?: arguments = o
        default: return .failure(.invalidParams("'arguments' must be an object"))
        }
        guard let tool = catalog.tool(named: name) else { return .failure(.invalidParams("Unknown tool: \(name.prefix(100))")) }
        let backend = catalog.backends[tool.backendIndex]
        let correlationID = CallContext.newCorrelationID()
        var log = logger
        log[metadataKey: "backend"] = .string(backend.name)
        log[metadataKey: "tool"] = .string(name)
        let box = NotifierState()
        let context = CallContext(
            principal: principal, correlationID: correlationID,
            deadline: .now + .milliseconds(settings.defaultTimeoutMilliseconds), logger: log,
            notifier: makeNotifier(request: request, session: session, notify: notify, state: box))
        defer { box.finish() }

        let violations = tool.inputValidator.validate(.object(arguments))
        if !violations.isEmpty {
            let detail = violations.prefix(5).map(\.description).joined(separator: "; ")
            context.logger.info("tool call refused", metadata: ["outcome": "invalid_arguments"])
            return .success(Self.errorResult(.invalidArguments("Invalid arguments for \(name): \(detail)."), correlationID: correlationID))
        }
        let started = ContinuousClock.now
        do {
            let output = try await Deadline.run(until: context.deadline) {
                try await backend.callTool(tool.definition.name, arguments: arguments, context: context)
            }
            if tool.definition.outputSchema != nil, output.structured?.objectValue == nil {
                context.logger.error("backend returned no structured result for a tool with an output schema")
                return .success(Self.errorResult(BrokerError(.internal, "The tool produced an invalid result."), correlationID: correlationID))
            }
            var content: [ContentBlock] = [.text(output.text ?? output.structured?.jsonText ?? "")]
            content.append(contentsOf: output.extraContent)
            context.logger.info("tool call", metadata: ["outcome": "ok", "duration_ms": "\(Self.ms(since: started))"])
            return .success(CallToolResult(content: content, structuredContent: output.structured).json)
        } catch let error as BrokerError {
            context.logger.notice(
                "tool call failed", metadata: ["outcome": .string(error.code.rawValue), "duration_ms": "\(Self.ms(since: started))"])
            // Native backend detail can be verbose or sensitive: debug level only, never to the client.
            if let detail = error.detail { context.logger.debug("tool call failure detail", metadata: ["detail": .string(detail)]) }
            return .success(Self.errorResult(error, correlationID: correlationID))
        } catch is CancellationError {
            return .success(Self.errorResult(.cancelled, correlationID: correlationID))
        } catch {
            // A non-BrokerError is a bug in a backend: log it, tell the client only the correlation id.
            context.logger.error("tool call crashed", metadata: ["error_type": .string(String(describing: type(of: error))), "duration_ms": "\(Self.ms(since: started))"])
            return .success(
                Self.errorResult(BrokerError(.internal, "The broker hit an internal error while running \(name)."), correlationID: correlationID))
        }
    }

    static func ms(since start: ContinuousClock.Instant) -> String {
        let micros = (ContinuousClock.now - start) / .microseconds(1)
        return String(format3(micros / 1000))
    }

    static func format3(_ v: Double) -> String { String(Double(Int((v * 1000).rounded())) / 1000) }

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

    func makeNotifier(request: RPCRequest, session: Session, notify: NotificationSink?, state: NotifierState) -> ClientNotifier {
        guard let notify else { return .none }
        var progress: (@Sendable (Double, Double?, String?) async -> Void)?
        if let token = request.progressToken {
            progress = { value, total, message in
                // MCP requires strictly increasing progress, and none after the response.
                guard state.advance(to: value) else { return }
                var p: [String: JSONValue] = ["progressToken": token, "progress": .double(value)]
                if let total { p["total"] = .double(total) }
                if let message { p["message"] = .string(message) }
                await notify(RPCNotification(method: "notifications/progress", params: p))
            }
        }
        let log: @Sendable (LogLevel, String, JSONValue) async -> Void = { level, name, data in
            guard let minimum = session.logLevel, level >= minimum, state.isOpen else { return }
            await notify(RPCNotification(method: "notifications/message", params: ["level": .string(level.rawValue), "logger": .string(name), "data": data]))
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

/// Runs work against an absolute deadline: past it the work is cancelled and a `timeout` error is thrown.
public enum Deadline {
    /// Races `work` against the deadline.
    public static func run<T: Sendable>(until deadline: ContinuousClock.Instant, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw BrokerError.timeout("The call ran out of time.") }
            guard let value = first else {
                throw BrokerError.timeout("The backend did not answer in time; try again, or narrow the request.")
            }
            return value
        }
    }
}
