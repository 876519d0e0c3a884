// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// A tool as a backend declares it, before namespacing (`search_employees`, not `hr__search_employees`).
public struct ToolDefinition: Sendable {
    /// Local name; the catalog prefixes the backend name and checks the result against `^[a-zA-Z0-9_-]{1,64}$`.
    public var name: String
    public var title: String?
    /// What the tool does, written for the model: when to use it, what comes back.
    public var description: String
    /// JSON Schema (object) for the arguments; compiled and enforced by the broker before the backend runs.
    public var inputSchema: JSONValue
    /// JSON Schema of `structuredContent`, for tools with a stable result shape.
    public var outputSchema: JSONValue?
    public var annotations: ToolAnnotations

    public init(
        name: String, title: String? = nil, description: String, inputSchema: JSONValue,
        outputSchema: JSONValue? = nil, annotations: ToolAnnotations
    ) {
        self.name = name
        self.title = title
        self.description = description
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.annotations = annotations
    }
}

/// What a tool call produced.
public struct ToolOutput: Sendable {
    /// The result object (`structuredContent`); required when the tool declares an `outputSchema`.
    ///
    /// For an output made from ``init(encodedStructured:text:extraContent:)`` this parses the encoded
    /// form on every read: meant for tests and tools, not for the request path.
    public var structured: JSONValue? {
        get { value ?? encodedStructured?.decoded() }
        set {
            value = newValue
            encodedStructured = nil
        }
    }
    /// The result object already in wire form, relayed without building a tree (see ``EncodedJSON``).
    public private(set) var encodedStructured: EncodedJSON?
    /// Text for the model; when `nil`, the broker sends the JSON text of `structured`.
    public var text: String?
    /// Extra content blocks (e.g. resource links) appended after the text.
    public var extraContent: [ContentBlock]
    private var value: JSONValue?

    public init(structured: JSONValue? = nil, text: String? = nil, extraContent: [ContentBlock] = []) {
        self.value = structured
        self.text = text
        self.extraContent = extraContent
    }

    /// An output whose structured result is already encoded; `encodedStructured` should be an object
    /// (``EncodedJSON/wrapped(in:)`` makes one), which the broker checks for tools with an output schema.
    public init(encodedStructured: EncodedJSON, text: String? = nil, extraContent: [ContentBlock] = []) {
        self.encodedStructured = encodedStructured
        self.text = text
        self.extraContent = extraContent
    }

    /// Whether the structured result exists and is an object, without decoding an encoded one.
    public var hasObjectResult: Bool {
        if let encodedStructured { return encodedStructured.kind == .object }
        return value?.objectValue != nil
    }

    /// The text block: `text`, else the JSON text of the structured result.
    public var textForModel: String {
        if let text { return text }
        if let encodedStructured { return String(decoding: encodedStructured.bytes, as: UTF8.self) }
        return value?.jsonText ?? ""
    }
}

/// The health of one backend instance, for `/readyz`.
public struct HealthReport: Sendable {
    public var healthy: Bool
    /// Why not, in words for ops ("ERP rejected the broker's credentials").
    public var reason: String?

    public init(healthy: Bool, reason: String? = nil) {
        self.healthy = healthy
        self.reason = reason
    }

    public static let ok = HealthReport(healthy: true)
}

/// One configured enterprise system behind the broker (a mock ERP, a Postgres warehouse, a REST API, …).
///
/// One value exists per configured instance; it owns that instance's credentials, connections and response
/// normalizer. The broker validates arguments against the tool's schema before `callTool` runs, so a backend
/// sees only well-typed input; it still owns business validation.
///
/// Contract for errors: throw ``BrokerError`` for anything a client may see. Any other error is reported to the
/// client as an internal error carrying only the correlation id.
public protocol Backend: Sendable {
    /// Instance name from configuration; also the namespace of its tools, prompts and resources.
    var name: String { get }
    /// Tools, with local names.
    var tools: [ToolDefinition] { get }
    /// Concrete resources, with full URIs (see ``ResourceURI``).
    var resources: [Resource] { get }
    /// Resource templates, with full URI templates.
    var resourceTemplates: [ResourceTemplate] { get }
    /// Prompts, with local names.
    var prompts: [Prompt] { get }

    /// Executes one tool call with already-validated arguments.
    func callTool(_ name: String, arguments: [String: JSONValue], context: CallContext) async throws -> ToolOutput
    /// Reads one of this backend's resources; throw `not_found` for an unknown URI.
    func readResource(uri: String, context: CallContext) async throws -> [ResourceContents]
    /// Renders one prompt; required arguments are checked by the broker first.
    func getPrompt(_ name: String, arguments: [String: String], context: CallContext) async throws -> GetPromptResult
    /// Checks that the system is reachable and accepts the broker's credentials.
    func checkHealth(context: CallContext) async -> HealthReport
    /// Long-running work (pools, token refresh); returns when the broker shuts down. Default: nothing to run.
    func run() async throws
}

extension Backend {
    public var resources: [Resource] { [] }
    public var resourceTemplates: [ResourceTemplate] { [] }
    public var prompts: [Prompt] { [] }
    public func readResource(uri: String, context: CallContext) async throws -> [ResourceContents] {
        throw BrokerError.notFound("Resource \(uri) not found.")
    }
    public func getPrompt(_ name: String, arguments: [String: String], context: CallContext) async throws -> GetPromptResult {
        throw BrokerError.notFound("Prompt \(name) not found.")
    }
    public func run() async throws {}
}

/// Resource URIs are `broker://<backend>/<path>`, so the router finds the backend from the host part.
public enum ResourceURI {
    /// Builds a URI for `backend`.
    public static func make(backend: String, path: String) -> String { "broker://\(backend)/\(path)" }

    /// The backend named by a URI, or `nil` when it is not a broker URI.
    public static func backend(of uri: String) -> String? {
        guard uri.hasPrefix("broker://") else { return nil }
        let rest = uri.dropFirst("broker://".count)
        let host = rest.prefix { $0 != "/" }
        return host.isEmpty ? nil : String(host)
    }

    /// The path after `broker://<backend>/`.
    public static func path(of uri: String) -> String? {
        guard let b = backend(of: uri) else { return nil }
        return String(uri.dropFirst("broker://\(b)/".count))
    }
}
