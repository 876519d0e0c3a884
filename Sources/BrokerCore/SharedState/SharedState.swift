// SPDX-License-Identifier: Apache-2.0

/// This process's view of the state the replicas of one deployment share.
///
/// Built once at start from `server.shared_state` and kept across reloads (the connection is restart-only). With
/// no store (``local``) everything stays in this process, exactly as a single broker always worked.
public final class SharedState: Sendable {
    /// One process on its own: no store, one replica.
    public static let local = SharedState(store: nil, replicas: .fixed(1))

    /// The shared store, or `nil` for a broker on its own.
    public let store: (any SharedStateStore)?
    /// How many replicas share the limits (local fallback enforces rate / this).
    public let replicas: ReplicaCount
    /// 64 random bits in hex, fixed for the process: names this replica in the ids of its server-to-client
    /// requests and in its pub/sub channel, so an answer that reaches another replica can be sent back here.
    public let replicaID: String

    /// A view over `store`.
    public init(store: (any SharedStateStore)?, replicas: ReplicaCount, replicaID: String? = nil) {
        self.store = store
        self.replicas = replicas
        var g = SystemRandomNumberGenerator()
        let id = String(g.next() as UInt64, radix: 16)
        self.replicaID = replicaID ?? String(repeating: "0", count: 16 - id.count) + id
    }

    /// Whether replicas share state (a store is configured), whether or not it is reachable now.
    public var isShared: Bool { store != nil }
}
