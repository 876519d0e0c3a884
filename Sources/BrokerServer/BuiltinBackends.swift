// SPDX-License-Identifier: Apache-2.0

import BrokerBackendMockERP
import BrokerBackendMockHR
import BrokerBackendPostgres
import BrokerBackendREST
import BrokerCore

/// The backend kinds compiled into this binary. Adding a kind: one folder under Sources/, one target in
/// Package.swift, and one line here.
enum BuiltinBackends {
    static var registry: BackendRegistry {
        var r = BackendRegistry()
        r.register(MockERP.kind)
        r.register(MockHR.kind)
        r.register(Postgres.kind)
        r.register(REST.kind)
        return r
    }
}
