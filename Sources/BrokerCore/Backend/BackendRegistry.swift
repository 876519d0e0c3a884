// SPDX-License-Identifier: Apache-2.0

import Logging

/// What a backend kind's factory gets to build one instance.
public struct BackendSetup {
    /// Instance name (the `backends.<name>` key); also the tool namespace.
    public let name: String
    /// The instance's settings, without `kind`. Read every supported key, then call `finish()`.
    public let settings: ConfigNode
    /// A logger with `backend` metadata.
    public let logger: Logger
    /// Where the instance reports pool levels, connect failures and connection reuse.
    public let metrics: BackendMetrics

    public init(name: String, settings: ConfigNode, logger: Logger, metrics: BackendMetrics = .disabled) {
        self.name = name
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
    }
}

/// A kind of backend (`mock-erp`, `postgres`, `rest`, …) and how to build an instance from config.
///
/// The factory decodes and validates its settings and builds the backend without connecting (connections
/// happen in health checks and calls), so `mcp-broker validate` can run it on any machine.
public struct BackendKind: Sendable {
    /// The `kind:` value in config.
    public let name: String
    /// One line for `mcp-broker kinds` and error messages.
    public let summary: String
    /// Builds one instance. Throw ``ConfigError`` (via `setup.settings.error(...)`) for bad settings.
    public let make: @Sendable (BackendSetup) throws -> any Backend

    public init(name: String, summary: String, make: @escaping @Sendable (BackendSetup) throws -> any Backend) {
        self.name = name
        self.summary = summary
        self.make = make
    }
}

/// The backend kinds compiled into this binary. Built once in `main` and passed down; not a global.
public struct BackendRegistry: Sendable {
    private var kinds: [String: BackendKind] = [:]

    public init() {}

    /// Adds a kind. Registering the same name twice is a programming error caught at startup.
    public mutating func register(_ kind: BackendKind) {
        precondition(kinds[kind.name] == nil, "backend kind '\(kind.name)' registered twice")
        kinds[kind.name] = kind
    }

    /// The kind named `name`, if compiled in.
    public func kind(_ name: String) -> BackendKind? { kinds[name] }

    /// All kind names, sorted.
    public var names: [String] { kinds.keys.sorted() }
}
