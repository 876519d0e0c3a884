// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import SimulationKit
import XCTest

@testable import BrokerBackendMockERP

final class MockERPTests: XCTestCase {
    override func setUp() {
        super.setUp()
        ERPTest.prepareEnvironment()
    }

    func testSameSeedGivesIdenticalRecords() async throws {
        let a = try ERPTest.make(ERPTest.yaml())
        let b = try ERPTest.make(ERPTest.yaml())
        let pageA = try await ERPTest.call(a, "search_purchase_orders", ["page_size": 5])
        let pageB = try await ERPTest.call(b, "search_purchase_orders", ["page_size": 5])
        XCTAssertEqual(pageA["items"]?.arrayValue?.count, 5)
        // Cursors are sealed with a fresh nonce each time; everything else is the same.
        XCTAssertEqual(pageA["items"], pageB["items"])
        XCTAssertEqual(pageA["total"], pageB["total"])
        XCTAssertNotNil(pageA["next_cursor"]?.stringValue)
        let po = try XCTUnwrap(ERPTest.ids(pageA, "po_number").first)
        let fullA = try await ERPTest.call(a, "get_purchase_order", ["po_number": .string(po)])
        let fullB = try await ERPTest.call(b, "get_purchase_order", ["po_number": .string(po)])
        XCTAssertEqual(fullA, fullB)
        let suppliersA = try await ERPTest.call(a, "search_suppliers", ["page_size": 3])
        let suppliersB = try await ERPTest.call(b, "search_suppliers", ["page_size": 3])
        XCTAssertEqual(suppliersA["items"], suppliersB["items"])
        let other = try ERPTest.make(ERPTest.yaml(seed: 7))
        let suppliersOther = try await ERPTest.call(other, "search_suppliers", ["page_size": 3])
        XCTAssertNotEqual(suppliersA["items"], suppliersOther["items"], "a different seed should give different data")
    }

    func testFullSizePartitionAndGenerationTime() async throws {
        let start = ContinuousClock.now
        let partition = ERPGenerator.partition(tenant: "acme", index: 0, seed: 42, sizes: ERPSizes())
        let elapsed = ContinuousClock.now - start
        print("mock-erp full-size partition generated in \(elapsed)")
        XCTAssertLessThan(elapsed, .seconds(5), "generation is far too slow")
        XCTAssertEqual(partition.orders.count, 20_000)
        XCTAssertEqual(partition.invoices.count, 12_000)

        let erp = try ERPTest.make(ERPTest.yaml(sizes: nil))
        let suppliers = try await ERPTest.call(erp, "search_suppliers", ["page_size": 1])
        XCTAssertGreaterThanOrEqual(suppliers["total"]?.intValue ?? 0, 800)
        let orders = try await ERPTest.call(erp, "search_purchase_orders", ["page_size": 1])
        XCTAssertGreaterThanOrEqual(orders["total"]?.intValue ?? 0, 20_000)
        let invoices = try await ERPTest.call(erp, "search_invoices", ["page_size": 1])
        XCTAssertGreaterThanOrEqual(invoices["total"]?.intValue ?? 0, 12_000)
        let stock = try await ERPTest.call(erp, "check_inventory", ["page_size": 1])
        XCTAssertGreaterThanOrEqual(stock["total"]?.intValue ?? 0, 2_000)
        let centres = try await ERPTest.call(erp, "list_cost_centers")
        XCTAssertGreaterThanOrEqual(centres["total"]?.intValue ?? 0, 40)
    }

    func testTenantIsolation() async throws {
        let erp = try ERPTest.make(ERPTest.yaml())
        let globexOrders = try await ERPTest.call(erp, "search_purchase_orders", ["page_size": 1], tenant: "globex")
        let po = try XCTUnwrap(ERPTest.ids(globexOrders, "po_number").first)
        _ = try await ERPTest.call(erp, "get_purchase_order", ["po_number": .string(po)], tenant: "globex")
        let error = await ERPTest.brokerError(.notFound) {
            _ = try await ERPTest.call(erp, "get_purchase_order", ["po_number": .string(po)], tenant: "acme")
        }
        XCTAssertEqual(error?.message, "Purchase order \(po) not found.")

        let globexInvoices = try await ERPTest.call(erp, "search_invoices", ["page_size": 1], tenant: "globex")
        let invoice = try XCTUnwrap(ERPTest.ids(globexInvoices, "invoice_id").first)
        _ = await ERPTest.brokerError(.notFound) { _ = try await ERPTest.call(erp, "get_invoice", ["invoice_id": .string(invoice)]) }
        let globexSuppliers = try await ERPTest.call(erp, "search_suppliers", ["page_size": 1], tenant: "globex")
        let supplier = try XCTUnwrap(ERPTest.ids(globexSuppliers, "supplier_id").first)
        _ = await ERPTest.brokerError(.notFound) { _ = try await ERPTest.call(erp, "get_supplier", ["supplier_id": .string(supplier)]) }

        let forbidden = await ERPTest.brokerError(.forbidden) { _ = try await ERPTest.call(erp, "list_cost_centers", tenant: "initech") }
        XCTAssertTrue(forbidden?.message.contains("not provisioned") ?? false)
    }

    func testWrongCredentialIsRejectedAndUnhealthy() async throws {
        setenv("TEST_ERP_WRONG_PASSWORD", "not-the-password", 1)
        let erp = try ERPTest.make(ERPTest.yaml(clientPassword: "env:TEST_ERP_WRONG_PASSWORD"))
        let error = await ERPTest.brokerError(.backendCredentialsRejected) { _ = try await ERPTest.call(erp, "list_cost_centers") }
        XCTAssertEqual(error?.message, "The ERP system rejected the broker's credentials; an administrator must check backends.erp.credentials.")
        XCTAssertEqual(error?.backend, "erp")
        XCTAssertFalse(error?.isRetriable ?? true)
        let health = await erp.checkHealth(context: ERPTest.context())
        XCTAssertFalse(health.healthy)
        XCTAssertTrue(health.reason?.contains("rejected the broker's credentials (check backends.erp.credentials)") ?? false, "\(health.reason ?? "")")
        XCTAssertFalse(health.reason?.contains("not-the-password") ?? true)

        // Rotating the secret is picked up on the next call, without rebuilding the backend.
        setenv("TEST_ERP_WRONG_PASSWORD", ERPTest.password, 1)
        let healed = await erp.checkHealth(context: ERPTest.context())
        XCTAssertTrue(healed.healthy)
        let centres = try await ERPTest.call(erp, "list_cost_centers")
        XCTAssertGreaterThan(centres["total"]?.intValue ?? 0, 0)
    }

    func testMissingSecretAtRuntimeIsReported() async throws {
        setenv("TEST_ERP_VANISHING", ERPTest.password, 1)
        let erp = try ERPTest.make(ERPTest.yaml(clientPassword: "env:TEST_ERP_VANISHING"))
        unsetenv("TEST_ERP_VANISHING")
        let health = await erp.checkHealth(context: ERPTest.context())
        XCTAssertFalse(health.healthy)
        XCTAssertEqual(health.reason, "credential env:TEST_ERP_VANISHING is not available")
        let error = await ERPTest.brokerError(.backendCredentialsRejected) { _ = try await ERPTest.call(erp, "list_cost_centers") }
        XCTAssertTrue(error?.message.contains("env:TEST_ERP_VANISHING") ?? false)
    }

    func testOutageIsRetriableUnavailable() async throws {
        let erp = try ERPTest.make(ERPTest.yaml(outage: true))
        let error = await ERPTest.brokerError(.backendUnavailable) { _ = try await ERPTest.call(erp, "search_suppliers") }
        XCTAssertTrue(error?.isRetriable ?? false)
        XCTAssertEqual(error?.backend, "erp")
        XCTAssertFalse(error?.message.contains("IWFND") ?? true, "native code leaked: \(error?.message ?? "")")
        let health = await erp.checkHealth(context: ERPTest.context())
        XCTAssertFalse(health.healthy)
        XCTAssertTrue(health.reason?.contains("not responding") ?? false)

        let backend = try XCTUnwrap(erp as? MockERPBackend)
        backend.system.faults.setOutage(false)
        let page = try await ERPTest.call(erp, "search_suppliers", ["page_size": 1])
        XCTAssertEqual(page["items"]?.arrayValue?.count, 1)
    }

    func testInjectedFaultsAreUnavailable() async throws {
        let erp = try ERPTest.make(ERPTest.yaml(extraSystem: ", fault_rate: 1.0, latency_ms: 5"))
        let start = ContinuousClock.now
        let error = await ERPTest.brokerError(.backendUnavailable) { _ = try await ERPTest.call(erp, "list_cost_centers") }
        XCTAssertTrue(error?.isRetriable ?? false)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(5), "latency was not applied")
    }

    func testNotFoundMessages() async throws {
        let erp = try ERPTest.make(ERPTest.yaml())
        let po = await ERPTest.brokerError(.notFound) { _ = try await ERPTest.call(erp, "get_purchase_order", ["po_number": "4599999999"]) }
        XCTAssertEqual(po?.message, "Purchase order 4599999999 not found.")
        let invoice = await ERPTest.brokerError(.notFound) { _ = try await ERPTest.call(erp, "get_invoice", ["invoice_id": "5199999999"]) }
        XCTAssertEqual(invoice?.message, "Invoice 5199999999 not found.")
        let supplier = await ERPTest.brokerError(.notFound) { _ = try await ERPTest.call(erp, "get_supplier", ["supplier_id": "99999"]) }
        XCTAssertEqual(supplier?.message, "Supplier 0000099999 not found.")
    }

    func testNormalizedOutputsCarryNoNativeNames() async throws {
        let erp = try ERPTest.make(ERPTest.yaml())
        var outputs: [JSONValue] = []
        let orders = try await ERPTest.call(erp, "search_purchase_orders", ["page_size": 5])
        outputs.append(orders)
        let po = try XCTUnwrap(ERPTest.ids(orders, "po_number").first)
        outputs.append(try await ERPTest.call(erp, "get_purchase_order", ["po_number": .string(po)]))
        let suppliers = try await ERPTest.call(erp, "search_suppliers", ["page_size": 5])
        outputs.append(suppliers)
        outputs.append(try await ERPTest.call(erp, "get_supplier", ["supplier_id": .string(try XCTUnwrap(ERPTest.ids(suppliers, "supplier_id").first))]))
        let invoices = try await ERPTest.call(erp, "search_invoices", ["page_size": 5])
        outputs.append(invoices)
        outputs.append(try await ERPTest.call(erp, "get_invoice", ["invoice_id": .string(try XCTUnwrap(ERPTest.ids(invoices, "invoice_id").first))]))
        outputs.append(try await ERPTest.call(erp, "check_inventory", ["page_size": 5]))
        outputs.append(try await ERPTest.call(erp, "list_cost_centers"))

        let native: Set<String> = [
            "d", "results", "__count", "__next", "__metadata", "LIFNR", "NAME1", "LAND1", "ORT01", "SPERR", "ZTERM", "EBELN", "EBELP", "BEDAT",
            "WAERS", "KOSTL", "ERNAM", "PROCSTAT", "NETWR", "MATNR", "TXZ01", "MENGE", "MEINS", "NETPR", "WEMNG", "BELNR", "GJAHR", "BLDAT",
            "RMWWR", "RBSTAT", "MAKTX", "WERKS", "LGORT", "LABST", "STPRS", "KTEXT", "VERAK", "to_Item", "ZZ_ITEM_COUNT", "SPGRP", "SPGRM",
        ]
        for output in outputs {
            let keys = ERPTest.allKeys(output)
            XCTAssertTrue(keys.isDisjoint(with: native), "native names leaked: \(keys.intersection(native))")
            for key in keys { XCTAssertEqual(key, key.lowercased(), "key \(key) is not snake_case") }
        }
        let order = outputs[1]
        XCTAssertTrue(ERPSchemas.orderStatusWords.contains(order["status"]?.stringValue ?? ""))
        XCTAssertNotNil(order["order_date"]?.stringValue?.wholeMatch(of: /\d{4}-\d{2}-\d{2}/))
        XCTAssertNotNil(order["total_amount"]?.doubleValue)
        let line = try XCTUnwrap(order["lines"]?.arrayValue?.first)
        XCTAssertEqual(line["line_number"]?.intValue, 10)
        XCTAssertTrue(["piece", "kg", "m", "l", "pack", "carton", "roll"].contains(line["unit"]?.stringValue ?? ""))
        for invoice in invoices["items"]?.arrayValue ?? [] {
            XCTAssertTrue(ERPSchemas.invoiceStatusWords.contains(invoice["status"]?.stringValue ?? ""))
        }
        let supplier = outputs[3]
        XCTAssertTrue(["active", "blocked"].contains(supplier["status"]?.stringValue ?? ""))
        XCTAssertTrue([30, 45, 60].contains(supplier["payment_terms_days"]?.intValue ?? 0))
    }
}
