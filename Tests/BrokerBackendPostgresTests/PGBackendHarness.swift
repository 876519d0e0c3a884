// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import MCPCore

@testable import BrokerBackendPostgres

/// The plugin built from ``PostgresBackendTests/yaml(analystTimeoutMs:maxRows:acmePassword:)`` and the call
/// helpers, shared by the warehouse test classes.
struct PGBackendHarness {
    func backend(_ yaml: String = PostgresBackendTests.yaml()) throws -> any Backend {
        try Postgres.kind.make(BackendSetup(name: "wh", settings: try ConfigNode.parse(yaml: yaml, file: "pg-test.yaml"), logger: Logger(label: "pg-test")))
    }

    func context(_ tenant: String = "acme", id: String = "ana") -> CallContext {
        CallContext(principal: Principal(id: id, tenant: tenant), correlationID: "t", deadline: .now + .seconds(20), logger: Logger(label: "t"))
    }

    func call(_ b: any Backend, _ tool: String, _ args: [String: JSONValue], _ ctx: CallContext? = nil) async throws -> JSONValue {
        let out = try await b.callTool(tool, arguments: args, context: ctx ?? context())
        return out.structured ?? .null
    }

    func brokerError(_ b: any Backend, _ tool: String, _ args: [String: JSONValue], _ ctx: CallContext? = nil) async -> BrokerError? {
        do {
            _ = try await b.callTool(tool, arguments: args, context: ctx ?? context())
            return nil
        } catch { return error as? BrokerError }
    }
}
