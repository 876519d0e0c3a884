// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// The label vocabularies: every label value comes from configuration or a fixed list, never from raw input, so
/// the number of series is bounded by the configuration (unknown tool names, session and principal ids never
/// become label values).
public enum MetricLabels {
    /// The tool label of a name outside the catalogue, or hidden from the caller.
    public static let unknownTool = "_unknown"
    /// The outcome label of an unknown or hidden tool.
    public static let unknownToolOutcome = "unknown_tool"
    /// The label of a value outside its fixed list (a method outside MCP, a tenant not in configuration, an error code
    /// no part of the broker declares).
    public static let other = "_other"

    /// MCP request methods (2025-11-25); any other method is counted as ``other``.
    public static let mcpMethods: Set<String> = [
        "initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/templates/list", "resources/read",
        "resources/subscribe", "resources/unsubscribe", "prompts/list", "prompts/get", "logging/setLevel", "completion/complete",
    ]

    /// The `mcp_method_name` label of `method`.
    public static func method(_ method: String) -> String { mcpMethods.contains(method) ? method : other }

    /// The broker's error codes (``BrokerError/Code``) that may appear as an `outcome` or `error_type`.
    static let brokerCodes: Set<String> = Set(
        [
            BrokerError.Code.invalidArguments, .notFound, .conflict, .forbidden, .backendCredentialsRejected, .backendUnavailable,
            .backendError, .timeout, .rateLimited, .cancelled, .declined, .internal,
        ].map(\.rawValue))

    /// The label of a broker error code: a code outside the declared list (a backend's own) is ``other``.
    public static func code(_ code: BrokerError.Code) -> String { brokerCodes.contains(code.rawValue) ? code.rawValue : other }

    /// The `error_type` label of a JSON-RPC error: its numeric code.
    public static func rpcCode(_ error: RPCError) -> String { String(error.code) }
}

/// The tenant label: a tenant the configuration serves, or ``MetricLabels/other``.
public struct TenantLabels: Sendable {
    let known: Set<String>

    /// The tenants of `settings`: those it serves and those of its configured principals.
    public init(settings: ServerSettings) {
        var known = settings.servedTenants
        known.insert(settings.stdioPrincipal.tenant)
        known.insert(settings.http.principal.tenant)
        self.known = known
    }

    /// A fixed list (tests).
    public init(_ tenants: Set<String>) { known = tenants }

    /// The label of `tenant`.
    public func callAsFunction(_ tenant: String) -> String { known.contains(tenant) ? tenant : MetricLabels.other }
}
