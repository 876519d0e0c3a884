// SPDX-License-Identifier: Apache-2.0

/// The per-request envelope of MCP 2026-07-28: what `initialize` used to establish once per session, now carried in
/// every request's `params._meta`.
public struct RequestEnvelope: Sendable {
    /// `_meta` keys (SDK constants `PROTOCOL_VERSION_META_KEY` and friends).
    public enum Key {
        public static let protocolVersion = "io.modelcontextprotocol/protocolVersion"
        public static let clientCapabilities = "io.modelcontextprotocol/clientCapabilities"
        public static let clientInfo = "io.modelcontextprotocol/clientInfo"
        public static let logLevel = "io.modelcontextprotocol/logLevel"
        public static let serverInfo = "io.modelcontextprotocol/serverInfo"
        public static let subscriptionID = "io.modelcontextprotocol/subscriptionId"
    }

    /// The revision this request speaks (one of ``ProtocolVersion/modern``).
    public var protocolVersion: String
    /// The client's declared capabilities; `{}` means none. Never inferred from earlier requests.
    public var clientCapabilities: JSONValue
    /// `clientInfo.name`, for logs.
    public var clientName: String?
    /// The opt-in for `notifications/message`: absent means none may be sent for this request.
    public var logLevel: LogLevel?

    public init(protocolVersion: String, clientCapabilities: JSONValue = .object([:]), clientName: String? = nil, logLevel: LogLevel? = nil) {
        self.protocolVersion = protocolVersion
        self.clientCapabilities = clientCapabilities
        self.clientName = clientName
        self.logLevel = logLevel
    }

    /// Whether `request` is a 2026-07-28 request: it carries an envelope (its protocol-version key) and is not
    /// `initialize`, which stays a handshake whatever its `_meta` holds. How a stdio connection's first request
    /// chooses its era, and how a handshake-era connection spots a request it must refuse.
    public static func marksModern(_ request: RPCRequest) -> Bool {
        request.method != "initialize" && request.params?["_meta"]?[Key.protocolVersion] != nil
    }

    /// The envelope's protocol version as sent, when it is a string (for the HTTP header comparison, which comes
    /// before the supported-version check so a client that disagrees with itself is told so).
    public static func declaredVersion(in params: [String: JSONValue]?) -> String? {
        params?["_meta"]?[Key.protocolVersion]?.stringValue
    }

    /// Reads and checks the envelope: missing or malformed fields are -32602, an unserved version -32022.
    public static func parse(_ params: [String: JSONValue]?) -> Result<RequestEnvelope, RPCError> {
        guard case .object(let meta)? = params?["_meta"] else {
            return .failure(.invalidParams("params._meta must be an object carrying '\(Key.protocolVersion)' and '\(Key.clientCapabilities)'"))
        }
        let missing = [Key.protocolVersion, Key.clientCapabilities].filter { meta[$0] == nil }
        guard missing.isEmpty else {
            return .failure(.invalidParams("params._meta is missing the required envelope key(s): \(missing.joined(separator: ", "))"))
        }
        guard case .string(let version)? = meta[Key.protocolVersion] else {
            return .failure(.invalidParams("'\(Key.protocolVersion)' must be a string"))
        }
        guard case .object? = meta[Key.clientCapabilities] else {
            return .failure(.invalidParams("'\(Key.clientCapabilities)' must be an object ({} declares none)"))
        }
        guard ProtocolVersion.modern.contains(version) else { return .failure(.unsupportedProtocolVersion(version)) }
        var level: LogLevel?
        if let raw = meta[Key.logLevel] {
            guard let name = raw.stringValue, let parsed = LogLevel(rawValue: name) else {
                return .failure(.invalidParams("'\(Key.logLevel)' must be one of \(LogLevel.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
            level = parsed
        }
        let name = meta[Key.clientInfo]?["name"]?.stringValue.map { String($0.prefix(100)) }
        return .success(RequestEnvelope(protocolVersion: version, clientCapabilities: meta[Key.clientCapabilities] ?? .object([:]), clientName: name, logLevel: level))
    }
}
