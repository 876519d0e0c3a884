// SPDX-License-Identifier: Apache-2.0

/// One configuration as it serves: the broker (catalogue, backends, guards, policy, audit), the authenticator
/// built from its auth settings, and the hash of the files it came from.
///
/// Immutable. A reload builds the next generation beside this one and swaps; requests that started here finish
/// here (see ``GenerationLease``).
public final class BrokerGeneration: Sendable {
    /// 1 for the configuration the process started with, then one more per applied reload.
    public let number: UInt64
    public let broker: Broker
    /// Verifies HTTP credentials; `nil` when there is no authentication (loopback development, stdio).
    public let authenticator: (any Authenticator)?
    /// SHA-256 of the configuration files (see ``ConfigDigest``).
    public let configHash: String
    /// Content hashes of the watched files when this generation was read.
    public let watched: WatchedHashes
    let inFlight = InFlightCounter()

    public init(number: UInt64, broker: Broker, authenticator: (any Authenticator)?, configHash: String, watched: WatchedHashes? = nil) {
        self.number = number
        self.broker = broker
        self.authenticator = authenticator
        self.configHash = configHash
        self.watched = watched ?? WatchedHashes(config: configHash)
    }

    public var server: MCPServer { broker.server }
    public var settings: ServerSettings { broker.server.settings }
    /// Requests running on this generation (tests and the drain before releasing removed backends).
    public var requestsInFlight: Int { inFlight.count }
}
