// SPDX-License-Identifier: Apache-2.0

import BrokerCore

/// The `postgres` backend kind: a PostgreSQL warehouse through libpq.
public enum Postgres {
    /// Registered in `BuiltinBackends.swift`.
    public static let kind = BackendKind(
        name: "postgres", summary: "PostgreSQL warehouse through libpq: named queries, gated analyst SQL, schema discovery"
    ) { setup in
        let configuration = try PostgresConfiguration(setup.settings)
        return PostgresBackend(name: setup.name, configuration: configuration, logger: setup.logger, metrics: setup.metrics)
    }
}
