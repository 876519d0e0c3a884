// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import MCPCore

/// A REST API behind the broker, declared by ops in YAML or imported from its OpenAPI document.
///
/// Each tool is one operation; arguments are validated by the broker, then turned into a request to the
/// declared base URL only (the SSRF guard pins the checked address), with the backend's own credentials,
/// bounded transfer limits, retries for idempotent calls, pagination up to a cap, and a response normalizer
/// that maps the API's JSON to the tool's documented output. Errors become business messages.
final class RESTBackend: Backend, CredentialScopeReporting {
    let name: String
    let configuration: RESTConfiguration
    let operations: [String: RESTOperation]
    let curl: CurlClient
    let credentials: CredentialProvider
    let addressGuard: AddressGuard
    let logger: Logger
    /// Counts requests by connection reuse.
    let metrics: BackendMetrics

    init(name: String, configuration: RESTConfiguration, logger: Logger, metrics: BackendMetrics = .disabled) {
        self.name = name
        self.metrics = metrics
        self.configuration = configuration
        self.logger = logger
        var ops: [String: RESTOperation] = [:]
        for op in configuration.operations { ops[op.toolName] = op }
        self.operations = ops
        self.curl = CurlClient(name: name)
        self.credentials = CredentialProvider(backend: name)
        self.addressGuard = AddressGuard(allowPrivate: configuration.isInternal)
    }

    var usesSharedCredentials: Bool { configuration.sharedCredentials }
    var tenantsWithOwnCredentials: [String] { configuration.tenantAuth.keys.sorted() }

    var tools: [ToolDefinition] {
        configuration.operations.map { op in
            let retrySafe = op.readOnly || op.hasIdempotencyKey
            return ToolDefinition(
                name: op.toolName, description: op.description + (configuration.description.map { " (\($0))" } ?? ""),
                // structuredContent is always an object (lists are wrapped as {"items": …}), so that much is declared
                // even when ops gave no shape.
                inputSchema: op.inputSchema, outputSchema: op.outputSchema ?? ["type": "object"],
                annotations: op.readOnly
                    ? .readOnly
                    : ToolAnnotations(readOnly: false, destructive: op.method == "DELETE", idempotent: retrySafe || op.method == "PUT", openWorld: true))
        }
    }

    func callTool(_ tool: String, arguments: [String: JSONValue], context: CallContext) async throws -> ToolOutput {
        guard let op = operations[tool] else { throw BrokerError.notFound("Unknown tool \(tool).") }
        // Before anything else, so a tenant without a credential set causes no request at all (not even a token fetch).
        guard let auth = configuration.auth(for: context.principal.tenant) else { throw noCredentials(for: context.principal.tenant) }
        let built = try op.buildRequest(arguments: arguments)
        var query = built.query
        var response = try await send(op, path: built.path, query: query, headers: built.headers, body: built.body, auth: auth, arguments: arguments, context: context)
        guard let pagination = op.pagination else {
            // A document the tool does not reshape is relayed as checked, compacted bytes: no tree, no re-encoding.
            if op.normalizer.isIdentity { return try relay(response) }
            let document = try decode(response, op: op, arguments: arguments)
            let normalized = op.normalizer.apply(document)
            return output(normalized, op: op)
        }
        // Follow pages up to the cap, gathering items; the normalizer then maps each item.
        var items: [JSONValue] = []
        var pages = 0
        var more = false
        while true {
            let document = try decode(response, op: op, arguments: arguments)
            items += op.normalizer.extractItems(document) ?? []
            pages += 1
            guard let next = nextPage(pagination, document: document, response: response, query: query) else { break }
            if pages >= pagination.maxPages || items.count >= (pagination.maxItems ?? Int.max) {
                more = true
                break
            }
            query = next.query
            response = try await send(op, path: next.path ?? built.path, query: query, headers: built.headers, body: built.body, auth: auth, arguments: arguments, context: context)
        }
        let mapped = items.prefix(pagination.maxItems ?? Int.max).map(op.normalizer.mapItem)
        let structured: JSONValue = ["items": .array(Array(mapped)), "pages": .int(pages), "truncated": .bool(more)]
        var out = output(structured, op: op)
        if more {
            out.text = (out.text ?? "") + "\nStopped after \(pages) pages (\(mapped.count) items); narrow the filters to see the rest."
        }
        return out
    }

    /// Bytes of the text block next to `structuredContent`: the model gets a readable preview, clients that
    /// read structured results get everything.
    static let textPreviewBytes = 4000

    func output(_ value: JSONValue, op: RESTOperation) -> ToolOutput {
        // structuredContent must be an object (2025-11-25): a list result is wrapped as {"items": [...]}.
        let structured: JSONValue = value.objectValue != nil ? value : ["items": value]
        let encoded = JSONWriter.encode(structured)
        let text = EncodedJSON.preview(of: encoded, limit: Self.textPreviewBytes)
        return ToolOutput(structured: structured, text: text)
    }

    /// The response as the tool's result without building a tree: checked as strict JSON (UTF-8, the configured
    /// depth), compacted, and wrapped as `{"items": …}` unless it is an object.
    func relay(_ response: CurlResponse) throws(BrokerError) -> ToolOutput {
        if response.body.isEmpty { return ToolOutput(structured: .object([:])) }
        let structured: EncodedJSON
        do {
            // One pass: checked, compacted and (unless an object) wrapped straight into the result's buffer.
            structured = try EncodedJSON.validatingObject(response.body, wrappingOthersIn: "items", maxDepth: configuration.maxJSONDepth)
        } catch {
            throw BrokerError(.backendError, "The \(name) service returned a response that is not valid JSON.", retriable: false, backend: name, detail: error.description)
        }
        return ToolOutput(encodedStructured: structured, text: structured.preview(limit: Self.textPreviewBytes))
    }

    func decode(_ response: CurlResponse, op: RESTOperation, arguments: [String: JSONValue]) throws(BrokerError) -> JSONValue {
        if response.body.isEmpty { return .object([:]) }
        do {
            return try JSONParser.parse(response.body, limits: .init(maxDepth: configuration.maxJSONDepth, rejectNUL: false))
        } catch {
            throw BrokerError(.backendError, "The \(name) service returned a response that is not valid JSON.", retriable: false, backend: name, detail: error.description)
        }
    }

    /// The next page's query (and path, for Link headers), or nil at the end.
    func nextPage(_ p: Pagination, document: JSONValue, response: CurlResponse, query: [(String, String)]) -> (path: String?, query: [(String, String)])? {
        switch p.kind {
        case .cursor(let field, let param):
            guard let cursor = jsonPointer(document, field)?.stringValue, !cursor.isEmpty else { return nil }
            return (nil, query.filter { $0.0 != param } + [(param, cursor)])
        case .linkHeader:
            guard let link = response.headers.first(where: { $0.0 == "link" })?.1, let next = LinkHeader.next(link) else { return nil }
            // Only follow a next link on the same host: a Link header must not steer requests elsewhere.
            guard let target = LinkHeader.sameHostTarget(next, host: configuration.host, port: configuration.port, prefix: configuration.pathPrefix) else { return nil }
            return (target.path, target.query)
        }
    }

    /// The refusal for a tenant this backend has no credential set for. The tenant is printed bounded and
    /// printable: it comes from a token.
    func noCredentials(for tenant: String) -> BrokerError {
        let shown = Tenancy.printable(tenant)
        return BrokerError(
            .forbidden, "The \(name) system has no credentials for your organisation; ask your administrator to add tenants.\(shown) to backend \(name).",
            backend: name, detail: "no tenants.\(shown).auth and shared_credentials is false"
        ).callerFault()
    }

    func checkHealth(context: CallContext) async -> HealthReport {
        do {
            _ = try await addressGuard.resolve(host: configuration.host, backend: name)
            return .ok
        } catch {
            return HealthReport(healthy: false, reason: error.message)
        }
    }
}
