// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import SimulationKit

/// The `mock-hr` backend kind: a simulated Workday-like HR system and the broker plugin in front of it.
///
/// ```yaml
/// kind: mock-hr
/// description: "HR for all EU entities"     # optional
/// credentials: { api_key: env:HR_API_KEY }   # what the broker presents
/// system:                                    # the simulated system's own settings
///   seed: 42
///   tenants: [acme, globex]
///   api_key: env:HR_SYSTEM_API_KEY           # the key the system accepts
///   latency_ms: 0
///   jitter_ms: 0
///   fault_rate: 0.0
///   outage: false
///   employees: 5000
/// ```
public enum MockHR {
    /// The kind to register with the broker.
    public static let kind = BackendKind(
        name: "mock-hr", summary: "Simulated Workday-like HR system: employees, org chart, departments, leave, compensation",
        make: { setup in try make(setup) })

    static func make(_ setup: BackendSetup) throws -> any Backend {
        let s = setup.settings
        s.markRead("kind")
        let description = try s.optionalString("description")
        guard let credentials = try s.section("credentials") else {
            throw s.error("credentials", "is required (api_key: env:NAME or file:/path)")
        }
        guard let apiKey = try credentials.secret("api_key") else { throw credentials.error("api_key", "is required") }
        try credentials.finish()

        guard let system = try s.section("system") else { throw s.error("system", "is required (at least tenants and api_key)") }
        let seed = try system.int("seed", default: 42, range: 0...Int.max)
        let tenants = try system.stringList("tenants")
        guard !tenants.isEmpty else { throw system.error("tenants", "must list at least one tenant") }
        guard tenants.count <= HRSystem.maxTenants else { throw system.error("tenants", "may list at most \(HRSystem.maxTenants) tenants") }
        for tenant in tenants {
            guard !tenant.isEmpty, tenant.count <= 64, tenant.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw system.error("tenants", "tenant names may contain only letters, digits, - and _ (got \"\(tenant.prefix(40))\")")
            }
        }
        guard Set(tenants).count == tenants.count else { throw system.error("tenants", "lists a tenant twice") }
        guard let systemKey = try system.secret("api_key") else { throw system.error("api_key", "is required") }
        let latency = try system.int("latency_ms", default: 0, range: 0...60_000)
        let jitter = try system.int("jitter_ms", default: 0, range: 0...60_000)
        let faultRate = try system.double("fault_rate", default: 0, range: 0...1)
        let outage = try system.bool("outage", default: false)
        let employees = try system.int("employees", default: 5000, range: 50...HRSystem.maxEmployeesPerTenant)
        try system.finish()
        try s.finish()

        let plan = FaultPlan(
            latencyMilliseconds: latency, jitterMilliseconds: jitter, faultRate: faultRate, outage: outage,
            seed: UInt64(seed) ^ 0x4852_5F46_4155_4C54)
        let hr = HRSystem(seed: UInt64(seed), tenants: tenants, employeesPerTenant: employees, apiKey: systemKey, faultPlan: plan)
        return MockHRBackend(name: setup.name, description: description, apiKey: apiKey, system: hr, logger: setup.logger)
    }
}
