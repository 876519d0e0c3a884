// SPDX-License-Identifier: Apache-2.0

/// Sizing, timeouts and backoff for one ``PGPool``.
struct PGPoolConfiguration: Sendable {
    /// Connections ``PGPool/warmUp(deadline:)`` opens ahead of demand.
    var minConnections = 0
    /// Upper bound on open connections (idle + leased + being opened).
    var maxConnections = 4
    /// How long an acquire may wait for a free connection (further bounded by the call's deadline).
    var acquireTimeout: Duration = .seconds(2)
    /// Connections older than this are closed instead of reused.
    var maxLifetime: Duration = .seconds(1800)
    /// Idle connections unused for this long are checked with `SELECT 1` before reuse.
    var idleCheckAfter: Duration = .seconds(30)
    /// First backoff after a failed connect.
    var backoffBase: Duration = .milliseconds(100)
    /// Largest backoff after repeated failed connects.
    var backoffMax: Duration = .seconds(5)

    /// Creates a configuration; every value has a default.
    init(
        minConnections: Int = 0, maxConnections: Int = 4, acquireTimeout: Duration = .seconds(2),
        maxLifetime: Duration = .seconds(1800), idleCheckAfter: Duration = .seconds(30),
        backoffBase: Duration = .milliseconds(100), backoffMax: Duration = .seconds(5)
    ) {
        self.minConnections = minConnections
        self.maxConnections = maxConnections
        self.acquireTimeout = acquireTimeout
        self.maxLifetime = maxLifetime
        self.idleCheckAfter = idleCheckAfter
        self.backoffBase = backoffBase
        self.backoffMax = backoffMax
    }
}
