// SPDX-License-Identifier: Apache-2.0

public import BrokerCore
import SimulationKit

/// The `mock-erp` backend kind: a simulated SAP-like ERP (suppliers, purchase orders, invoices, inventory,
/// cost centres) and the broker plugin in front of it.
///
/// ```yaml
/// kind: mock-erp
/// description: "Procurement ERP (simulated)"
/// credentials: { client: "100", user: BROKER_SVC, password: env:ERP_PASSWORD }
/// system: { seed: 42, tenants: [acme, globex], client: "100", user: BROKER_SVC, password: env:ERP_SYSTEM_PASSWORD,
///           latency_ms: 0, jitter_ms: 0, fault_rate: 0.0, outage: false,
///           purchase_orders: 20000, suppliers: 800, invoices: 12000, materials: 2000 }
/// ```
public enum MockERP {
    /// Registers as `mock-erp`.
    public static let kind = BackendKind(
        name: "mock-erp", summary: "Simulated SAP-like ERP: suppliers, purchase orders, supplier invoices, inventory, cost centres",
        make: { setup in try make(setup) })

    /// The most tenant partitions one system holds (each gets its own document number ranges).
    static let maxTenants = 50

    private static func make(_ setup: BackendSetup) throws -> any Backend {
        let s = setup.settings
        s.markRead("kind")
        let description = try s.optionalString("description")
        guard let c = try s.section("credentials") else { throw s.error("credentials", "is required (client, user, password)") }
        let credentials = ERPCredentials(
            client: try c.string("client"), user: try c.string("user"), password: try secret(c, "password"))
        try c.finish()
        guard let sys = try s.section("system") else { throw s.error("system", "is required (at least tenants and the accepted credential)") }
        let tenants = try sys.stringList("tenants")
        guard !tenants.isEmpty else { throw sys.error("tenants", "is required: list the tenant partitions to provision, e.g. [acme, globex]") }
        guard tenants.count <= maxTenants else { throw sys.error("tenants", "at most \(maxTenants) tenants are supported") }
        guard Set(tenants).count == tenants.count, tenants.allSatisfy({ !$0.isEmpty }) else {
            throw sys.error("tenants", "tenant names must be non-empty and unique")
        }
        var sizes = ERPSizes()
        sizes.purchaseOrders = try sys.int("purchase_orders", default: sizes.purchaseOrders, range: 1...500_000)
        sizes.suppliers = try sys.int("suppliers", default: sizes.suppliers, range: 1...90_000)
        sizes.invoices = try sys.int("invoices", default: sizes.invoices, range: 0...900_000)
        sizes.materials = try sys.int("materials", default: sizes.materials, range: 1...9_999)
        let seed = try sys.int("seed", default: 42)
        let settings = ERPSystem.Settings(
            seed: UInt64(bitPattern: Int64(seed)), tenants: tenants, client: try sys.string("client"), user: try sys.string("user"),
            password: try secret(sys, "password"), sizes: sizes)
        let faults = FaultPlan(
            latencyMilliseconds: try sys.int("latency_ms", default: 0, range: 0...600_000),
            jitterMilliseconds: try sys.int("jitter_ms", default: 0, range: 0...600_000),
            faultRate: try sys.double("fault_rate", default: 0, range: 0...1), outage: try sys.bool("outage", default: false),
            seed: settings.seed &+ 7)
        try sys.finish()
        try s.finish()
        return MockERPBackend(
            name: setup.name, description: description, credentials: credentials, system: ERPSystem(settings: settings, faults: faults),
            logger: setup.logger)
    }

    private static func secret(_ node: ConfigNode, _ key: String) throws(ConfigError) -> SecretReference {
        guard let ref = try node.secret(key) else { throw node.error(key, "is required (a secret reference: env:NAME or file:/path)") }
        return ref
    }
}
