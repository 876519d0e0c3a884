// SPDX-License-Identifier: Apache-2.0

import Logging
import MCPCore
import Synchronization

/// The list entries one visibility class of principals may see.
struct VisibleLists: Sendable {
    let tools: [JSONValue]
    let resources: [JSONValue]
    let templates: [JSONValue]
    let prompts: [JSONValue]
}

/// Filtered lists, computed once per visibility class (roles plus the attributes rules read) and reused, so
/// `tools/list` costs a dictionary lookup instead of a policy pass over the whole catalogue.
final class VisibleListCache: Sendable {
    let catalog: Catalog
    let policy: Policy
    /// Tool list entries with the policy's `destructive` override applied, in catalogue order.
    let toolEntries: [JSONValue]
    private let cache = Mutex<[String: VisibleLists]>([:])
    /// Encoded `tools/list` results by visibility class and cursor: a repeated list is a lookup and a copy.
    private let encodedPages = Mutex<[String: [UInt8]]>([:])
    /// Bound on cached classes; beyond it the cache starts over (classes are few in practice).
    static let maxClasses = 4096

    init(catalog: Catalog, policy: Policy) {
        self.catalog = catalog
        self.policy = policy
        self.toolEntries = catalog.tools.map { tool in
            guard policy.tools[tool.fullName]?.destructive == true, case .object(var o) = tool.listEntry else { return tool.listEntry }
            var a = o["annotations"]?.objectValue ?? [:]
            a["destructiveHint"] = true
            a["readOnlyHint"] = false
            o["annotations"] = .object(a)
            return .object(o)
        }
    }

    /// The encoded `tools/list` result for this principal's class and the request's cursor.
    /// - Parameter modern: the 2026-07-28 fields to add (cached apart from the handshake-era page).
    func encodedToolsPage(_ params: [String: JSONValue], principal: Principal, pageSize: Int, modern: ModernResult? = nil) -> Result<[UInt8], RPCError> {
        let cursor = params["cursor"]?.stringValue ?? ""
        let key = policy.visibilityClass(of: principal) + (modern == nil ? "\u{1E}" : "\u{1F}") + cursor
        if let hit = encodedPages.withLock({ $0[key] }) { return .success(hit) }
        switch ListCursor.page(lists(for: principal).tools, key: "tools", list: "tools", params: params, pageSize: pageSize) {
        case .failure(let e): return .failure(e)
        case .success(let value):
            var bytes = JSONWriter.encode(value)
            if let modern { bytes = modern.amended(bytes, method: "tools/list") }
            // Only cursors this server issued get here (others fail above), so the map stays small; bounded anyway.
            encodedPages.withLock { c in
                if c.count >= Self.maxClasses { c.removeAll() }
                c[key] = bytes
            }
            return .success(bytes)
        }
    }

    func lists(for principal: Principal) -> VisibleLists {
        let key = policy.visibilityClass(of: principal)
        if let hit = cache.withLock({ $0[key] }) { return hit }
        var tools: [JSONValue] = []
        for (i, t) in catalog.tools.enumerated() {
            if case .allow = policy.visibility(of: t.fullName, for: principal) { tools.append(toolEntries[i]) }
        }
        let lists = VisibleLists(
            tools: tools,
            resources: zip(catalog.resources, catalog.resourceListEntries).filter { policy.mayRead(resource: $0.0.uri, principal: principal) }.map(\.1),
            templates: zip(catalog.resourceTemplates, catalog.templateListEntries)
                .filter { policy.mayRead(resource: $0.0.uriTemplate, principal: principal) }.map(\.1),
            prompts: catalog.prompts.filter { policy.mayGet(prompt: $0.fullName, principal: principal) }.map(\.listEntry))
        cache.withLock { c in
            if c.count >= Self.maxClasses { c.removeAll() }
            c[key] = lists
        }
        return lists
    }
}

extension MCPServer {
    /// Audits a request refused before any context existed (unknown or hidden names).
    func auditRefusal(principal: Principal, method: String, target: String, rule: String, started: ContinuousClock.Instant, digest: String? = nil) {
        trail.refused(principal: principal, method: method, target: target, rule: rule, started: started, digest: digest)
    }

    /// Audits a request that policy allowed (its outcome may still be an error) or refused with a context.
    func auditAllowed(
        _ context: CallContext, method: String, target: String, backend: String, digest: String?, rule: String, outcome: String,
        started: ContinuousClock.Instant, decision: String = "allowed"
    ) {
        trail.allowed(context, method: method, target: target, backend: backend, digest: digest, rule: rule, outcome: outcome, started: started, decision: decision)
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        // An elapsed time of this process's own clock: finite and far below Int.max microseconds.
        Double(Int(((ContinuousClock.now - start) / .microseconds(1)).rounded())) / 1000  // trap-ok: own clock, finite
    }

    /// The refusal for a client that cannot ask its user (no elicitation capability).
    static func cannotConfirm(_ tool: CatalogTool) -> BrokerError {
        BrokerError(
            .forbidden,
            "\(tool.fullName) needs your explicit confirmation, and this client cannot ask for it (it does not support MCP elicitation). "
                + "Run it from a client that supports elicitation, or ask an administrator.")
    }

    /// The `elicitation/create` params that ask to approve `tool` with these arguments (both eras ask the same).
    static func confirmationRequest(_ tool: CatalogTool, arguments: [String: JSONValue]) -> [String: JSONValue] {
        let title = tool.definition.title ?? tool.fullName
        var summary = JSONValue.object(arguments).jsonText
        if summary.count > 400 { summary = String(summary.prefix(400)) + "…" }
        return [
            "message": .string("Confirm \(title == tool.fullName ? title : "\(title) (\(tool.fullName))")? It will run with: \(summary)"),
            "requestedSchema": [
                "type": "object",
                "properties": ["approve": ["type": "boolean", "title": "Approve", "description": .string("Run \(tool.fullName) now")]],
                "required": ["approve"],
            ],
        ]
    }

    /// Asks the user to approve a tool marked `confirm: true`, through MCP elicitation.
    /// - Returns: `nil` when approved, or the error to answer with (declined, or no way to ask).
    static func confirm(_ tool: CatalogTool, arguments: [String: JSONValue], session: Session, send: OutboundSink?, context: CallContext) async -> BrokerError? {
        guard session.supportsElicitation, let send else { return cannotConfirm(tool) }
        let params = confirmationRequest(tool, arguments: arguments)
        switch await session.request("elicitation/create", params: params, send: send, until: context.deadline) {
        case .result(let r) where r["action"] == "accept" && r["content"]?["approve"] == .bool(true):
            return nil
        case .result:
            return BrokerError(.declined, "You did not approve \(tool.fullName), so nothing was changed.")
        case .error:
            return BrokerError(.declined, "The confirmation for \(tool.fullName) failed in the client, so nothing was changed.")
        case .timedOut:
            return BrokerError.timeout("No confirmation for \(tool.fullName) arrived in time, so nothing was changed.")
        case .cancelled:
            return BrokerError.cancelled
        }
    }
}
