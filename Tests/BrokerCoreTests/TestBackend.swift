// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import MCPCore
import Synchronization

/// A small in-memory backend for exercising the broker core (routing, validation, errors, progress).
/// The product backends (mock ERP/HR) are tested in their own target and end to end.
final class TestBackend: Backend {
    let name: String
    let toolCount: Int
    let calls = Mutex<Int>(0)

    init(name: String, toolCount: Int = 3) {
        self.name = name
        self.toolCount = toolCount
    }

    var tools: [ToolDefinition] {
        var t = [
            ToolDefinition(
                name: "echo", description: "Echo a message.",
                inputSchema: ["type": "object", "properties": ["text": ["type": "string", "maxLength": 20]], "required": ["text"], "additionalProperties": false],
                outputSchema: ["type": "object", "properties": ["text": ["type": "string"]]], annotations: .readOnly),
            ToolDefinition(name: "fail", description: "Fail with a business error.", inputSchema: ["type": "object"], annotations: .readOnly),
            ToolDefinition(name: "crash", description: "Throw a non-broker error.", inputSchema: ["type": "object"], annotations: .readOnly),
            ToolDefinition(
                name: "slow", description: "Report progress, then finish.",
                inputSchema: ["type": "object", "properties": ["steps": ["type": "integer"], "delay_ms": ["type": "integer"]]],
                annotations: .readOnly),
        ]
        for i in 0..<max(0, toolCount - 4) {
            t.append(ToolDefinition(name: "t\(i)", description: "Filler \(i).", inputSchema: ["type": "object"], annotations: .readOnly))
        }
        return t
    }

    var prompts: [Prompt] { [Prompt(name: "brief", description: "A brief.", arguments: [PromptArgument(name: "topic", required: true)])] }
    var resources: [Resource] { [Resource(uri: ResourceURI.make(backend: name, path: "ref/codes"), name: "codes")] }

    struct Boom: Error { let secret = "password=hunter2" }

    func callTool(_ tool: String, arguments: [String: JSONValue], context: CallContext) async throws -> ToolOutput {
        calls.withLock { $0 += 1 }
        switch tool {
        case "echo": return ToolOutput(structured: ["text": arguments["text"] ?? .null])
        case "fail":
            switch arguments["kind"]?.stringValue {
            case "caller": throw BrokerError.timeout("Your query took longer than 5 s; narrow it.").callerFault()
            case "outage": throw BrokerError.unavailable("The system is down.")
            default: throw BrokerError.notFound("Order 4711 not found.")
            }
        case "crash": throw Boom()
        case "slow":
            let steps = Int(arguments["steps"]?.intValue ?? 3)
            let delay = Int(arguments["delay_ms"]?.intValue ?? 1)
            for i in 1...steps {
                try await context.sleep(for: .milliseconds(delay))
                await context.notifier.progress(Double(i), total: Double(steps), message: "step \(i)")
                await context.notifier.progress(Double(i), total: Double(steps))  // a repeat must be dropped
            }
            return ToolOutput(text: "done")
        default: return ToolOutput(text: tool)
        }
    }

    func readResource(uri: String, context: CallContext) async throws -> [ResourceContents] {
        guard uri == ResourceURI.make(backend: name, path: "ref/codes") else { throw BrokerError.notFound("no \(uri)") }
        return [ResourceContents(uri: uri, text: #"{"codes":[1]}"#)]
    }

    func getPrompt(_ name: String, arguments: [String: String], context: CallContext) async throws -> GetPromptResult {
        GetPromptResult(messages: [PromptMessage(role: .user, content: .text("Brief on \(arguments["topic"] ?? "")"))])
    }

    func checkHealth(context: CallContext) async -> HealthReport { .ok }
}

/// Collects the notifications and server-to-client requests sent during a call.
final class NotificationLog: Sendable {
    let items = Mutex<[RPCNotification]>([])
    let requests = Mutex<[RPCRequest]>([])
    /// Called with each server-to-client request (a test's stand-in for the client answering it).
    let onRequest: (@Sendable (RPCRequest) -> Void)?

    init(onRequest: (@Sendable (RPCRequest) -> Void)? = nil) { self.onRequest = onRequest }

    var sink: OutboundSink {
        { bytes in
            switch try? RPCMessage.parse(bytes) {
            case .notification(let n)?: self.items.withLock { $0.append(n) }
            case .request(let r)?:
                self.requests.withLock { $0.append(r) }
                self.onRequest?(r)
            default: break
            }
        }
    }
    var all: [RPCNotification] { items.withLock { $0 } }
}

func makeServer(backends: [any Backend], pageSize: Int = 100, timeoutMs: Int = 30_000) throws -> MCPServer {
    var settings = ServerSettings()
    settings.pageSize = pageSize
    settings.policy = .allowAll
    settings.defaultTimeoutMilliseconds = timeoutMs
    return MCPServer(catalog: try Catalog(backends: backends, separator: "__"), settings: settings, logger: Logger(label: "test"))
}

/// An MCP server that allows everything, over one ``TestBackend`` named `a` with the given protections.
/// `shared` and `metrics` make it one replica of several sharing a store.
func makeGuardedServer(
    limits: ServerLimits = ServerLimits(), resilience: BackendResilience, label: String, shared: SharedState = .local, metrics: BrokerMetrics = .disabled
) throws -> (MCPServer, TestBackend) {
    var settings = ServerSettings()
    settings.policy = .allowAll
    settings.limits = limits
    let backend = TestBackend(name: "a")
    let catalog = try Catalog(backends: [backend], separator: "__")
    let server = MCPServer(catalog: catalog, settings: settings, resilience: ["a": resilience], metrics: metrics, logger: Logger(label: label), shared: shared)
    return (server, backend)
}
