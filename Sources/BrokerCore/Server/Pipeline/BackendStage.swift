// SPDX-License-Identifier: Apache-2.0

import Logging
import Tracing

/// The end of the pipeline: calls the backend under its guard (capacity share, breaker, bulkhead, deadline) and
/// turns whatever it throws into the error the client gets.
struct BackendStage: Sendable {
    let metrics: BrokerMetrics

    func run(_ call: ToolCall) async -> CallOutcome {
        await withChildSpan("mcp_broker.backend_call", ofKind: .client) { span in
            span.set("mcp_broker.backend", call.backend.name)
            span.set("mcp_broker.tool", call.name)
            let outcome = await guardedCall(call)
            if case .failure(let error) = outcome.result {
                span.fail(error.code.rawValue)
            }
            return outcome
        }
    }

    private func guardedCall(_ call: ToolCall) async -> CallOutcome {
        let context = call.context, backend = call.backend, tool = call.tool.definition.name, arguments = call.arguments
        let metrics = self.metrics, timing = call.timing, name = call.name
        do {
            let output = try await call.guarded.run(name, context: context, tenantLabel: call.tenantLabel) {
                let begun = ContinuousClock.now
                defer {
                    let elapsed = ContinuousClock.now - begun
                    timing.addBackend(elapsed)
                    metrics.recordBackendTime(backend: backend.name, tool: name, elapsed)
                }
                return try await backend.callTool(tool, arguments: arguments, context: context)
            }
            return .output(output)
        } catch let error as BrokerError {
            return CallOutcome(result: .failure(error))
        } catch is CancellationError {
            return CallOutcome(result: .failure(.cancelled), logged: true)
        } catch {
            // A non-BrokerError is a bug in a backend: log it, tell the client only the correlation id.
            context.logger.error(
                "tool call crashed",
                metadata: ["error_type": .string(String(describing: type(of: error))), "duration_ms": "\(MCPServer.ms(since: call.started))"])
            return CallOutcome(result: .failure(BrokerError(.internal, "The broker hit an internal error while running \(name).")), logged: true)
        }
    }
}
