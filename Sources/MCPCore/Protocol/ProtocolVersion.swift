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
    /// The newest revision we implement; offered when the client asks for one we do not know.
    public static let latest = "2025-11-25"
    /// Every revision we negotiate, newest first.
    public static let supported: [String] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
    /// The version assumed for HTTP requests without an `MCP-Protocol-Version` header (transport spec).
    public static let assumedWhenAbsent = "2025-03-26"

    /// Version negotiation: echo a supported request, otherwise offer the latest (never an error).
    public static func negotiate(_ requested: String?) -> String {
        if let requested, supported.contains(requested) { return requested }
        return latest
    }
}
