// SPDX-License-Identifier: Apache-2.0

/// MCP protocol revisions this server speaks.
///
/// Built on our own protocol core rather than the official swift-sdk 0.12.1, because that SDK (measured, see
/// README "Why our own protocol core"): lacks the 2026-07-28 revision (`server/discover`, the `_meta` envelope),
/// has a stdio transport that rescans its whole buffer per read (a 4 MiB line took 81 s), routes progress and
/// logs to the standalone GET stream instead of the request's own SSE stream, mixes up responses between
/// clients that share a stateless transport and rewrites strings that look like `data:` URLs. Owning the core
/// also keeps one JSON parse per message and the error model (`data` objects) under our control.
public enum ProtocolVersion {
    /// The newest handshake revision (`initialize`); offered when the client asks for one we do not know.
    public static let latest = "2025-11-25"
    /// Every handshake-era revision we negotiate in `initialize`, newest first.
    public static let supported: [String] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
    /// The per-request-envelope revisions (no `initialize`, no sessions) we serve, newest first.
    public static let modern: [String] = ["2026-07-28"]
    /// Everything we speak, newest first: what `server/discover` and -32022 errors list.
    public static let all: [String] = modern + supported

    /// Whether an HTTP `MCP-Protocol-Version` value routes a request to the modern (2026-07-28) code: any value that
    /// is not a handshake revision does, so an unknown future version is told -32022 by the modern code rather than
    /// being treated as a handshake client (transport spec, backward compatibility).
    public static func routesModern(header: String) -> Bool { !supported.contains(header) }
    /// The version assumed for HTTP requests without an `MCP-Protocol-Version` header (transport spec).
    public static let assumedWhenAbsent = "2025-03-26"

    /// Version negotiation: echo a supported request, otherwise offer the latest (never an error).
    public static func negotiate(_ requested: String?) -> String {
        if let requested, supported.contains(requested) { return requested }
        return latest
    }
}
