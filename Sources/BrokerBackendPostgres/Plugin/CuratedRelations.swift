// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore
import Synchronization

/// The relation names of the curated schema each tenant's role can read, as `warehouse__describe` lists them,
/// kept for a minute: the SQL gate checks every analyst query against them, and a new table should not need a
/// restart to become queryable.
final class CuratedRelations: Sendable {
    private struct Entry {
        let names: Set<String>
        let expires: ContinuousClock.Instant
    }

    private let entries = Mutex<[String: Entry]>([:])
    let lifetime: Duration

    init(lifetime: Duration = .seconds(60)) {
        self.lifetime = lifetime
    }

    /// The cached names for `tenant`, if fresh.
    func names(for tenant: String) -> Set<String>? {
        entries.withLock { e in
            guard let entry = e[tenant], entry.expires > .now else { return nil }
            return entry.names
        }
    }

    /// Stores what discovery found for `tenant`.
    func store(_ names: Set<String>, for tenant: String) {
        entries.withLock { $0[tenant] = Entry(names: names, expires: .now + lifetime) }
    }
}

extension PostgresBackend {
    /// The gate's scope for the caller: the curated schema and the relations its role can read there.
    func relationScope(context: CallContext) async throws -> SQLRelationScope {
        let tenant = context.principal.tenant
        let names: Set<String>
        if let cached = relations.names(for: tenant) {
            names = cached
        } else {
            let tables = try await listTables(context: context)
            names = Set(tables.compactMap { $0["name"]?.stringValue })
            relations.store(names, for: tenant)
        }
        return SQLRelationScope(schemas: [configuration.schema], relations: names, describeTool: "\(name)__describe")
    }
}
