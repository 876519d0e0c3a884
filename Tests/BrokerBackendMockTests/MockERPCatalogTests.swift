// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import XCTest

@testable import BrokerBackendMockERP

final class MockERPCatalogTests: XCTestCase {
    override func setUp() {
        super.setUp()
        ERPTest.prepareEnvironment()
    }

    func testCatalogAcceptsToolsAndSchemas() throws {
        let erp = try ERPTest.make(ERPTest.yaml(), name: String(repeating: "e", count: 32))
        let catalog = try Catalog(backends: [erp], separator: "__")
        XCTAssertEqual(catalog.tools.count, 11)
        XCTAssertEqual(
            Set(erp.tools.map(\.name)),
            [
                "search_suppliers", "get_supplier", "search_purchase_orders", "get_purchase_order", "search_invoices", "get_invoice",
                "check_inventory", "list_cost_centers", "create_purchase_order", "approve_invoice", "spend_report",
            ])
        for tool in erp.tools {
            XCTAssertLessThanOrEqual(tool.name.count, 30)
            XCTAssertEqual(tool.outputSchema?["type"], "object", tool.name)
            XCTAssertEqual(tool.inputSchema["additionalProperties"], false, tool.name)
            XCTAssertTrue(tool.description.hasSuffix("(Procurement ERP (simulated))"), tool.name)
            let writes = ["create_purchase_order", "approve_invoice"].contains(tool.name)
            XCTAssertEqual(tool.annotations.readOnlyHint, !writes, tool.name)
            XCTAssertTrue(tool.annotations.idempotentHint, tool.name)
            if writes { XCTAssertTrue(tool.inputSchema["required"]?.arrayValue?.contains("idempotency_key") ?? false) }
        }
        let create = try XCTUnwrap(catalog.tool(named: String(repeating: "e", count: 32) + "__create_purchase_order"))
        XCTAssertFalse(create.inputValidator.validate(["supplier_id": "100001", "cost_center": "CC1000", "lines": [], "idempotency_key": "abcdefgh"]).isEmpty)
        XCTAssertFalse(create.inputValidator.validate(["supplier_id": "100001", "cost_center": "CC1000", "lines": [["material_id": "MAT-000001", "quantity": 0]], "idempotency_key": "abcdefgh"]).isEmpty)
        XCTAssertFalse(create.inputValidator.validate(["supplier_id": "100001", "cost_center": "CC1000", "lines": [["material_id": "MAT-000001", "quantity": 1]], "idempotency_key": "short"]).isEmpty)
        XCTAssertTrue(create.inputValidator.validate(["supplier_id": "100001", "cost_center": "CC1000", "lines": [["material_id": "MAT-000001", "quantity": 1]], "idempotency_key": "abcdefgh"]).isEmpty)
    }

    func testResources() async throws {
        let erp = try ERPTest.make(ERPTest.yaml())
        let context = ERPTest.context()
        XCTAssertEqual(Set(erp.resources.map(\.uri)), [
            "broker://erp/reference/po-status-codes", "broker://erp/reference/invoice-status-codes", "broker://erp/reference/plants",
            "broker://erp/schemas/purchase-order",
        ])
        let codes = try await erp.readResource(uri: "broker://erp/reference/po-status-codes", context: context)
        XCTAssertTrue(codes.first?.text.contains("\"code\":\"06\"") ?? false)
        XCTAssertTrue(codes.first?.text.contains("partially_received") ?? false)
        let schema = try await erp.readResource(uri: "broker://erp/schemas/purchase-order", context: context)
        let schemaText = try XCTUnwrap(schema.first?.text)
        XCTAssertTrue(schemaText.contains("\"line_amount\""))

        let orders = try await ERPTest.call(erp, "search_purchase_orders", ["page_size": 1])
        let po = try XCTUnwrap(ERPTest.ids(orders, "po_number").first)
        let viaTool = try await ERPTest.call(erp, "get_purchase_order", ["po_number": .string(po)])
        let viaResource = try await erp.readResource(uri: "broker://erp/purchase-orders/\(po)", context: context)
        XCTAssertEqual(viaResource.first?.text, viaTool.jsonText)
        XCTAssertEqual(viaResource.first?.mimeType, "application/json")
        let supplier = try await erp.readResource(uri: "broker://erp/suppliers/100001", context: context)
        XCTAssertTrue(supplier.first?.text.contains("\"open_order_count\"") ?? false)
        let invoices = try await ERPTest.call(erp, "search_invoices", ["page_size": 1])
        let invoiceID = try XCTUnwrap(ERPTest.ids(invoices, "invoice_id").first)
        let invoice = try await erp.readResource(uri: "broker://erp/invoices/\(invoiceID)", context: context)
        XCTAssertTrue(invoice.first?.text.contains("\"purchase_order\"") ?? false)

        _ = await ERPTest.brokerError(.notFound) { _ = try await erp.readResource(uri: "broker://erp/reference/nothing", context: context) }
        let missing = await ERPTest.brokerError(.notFound) { _ = try await erp.readResource(uri: "broker://erp/purchase-orders/4599999999", context: context) }
        XCTAssertEqual(missing?.message, "Purchase order 4599999999 not found.")
        _ = await ERPTest.brokerError(.notFound) { _ = try await erp.readResource(uri: "broker://erp/purchase-orders/abc')", context: context) }
        XCTAssertEqual(erp.resourceTemplates.first?.match("broker://erp/purchase-orders/4500000001")?["po_number"], "4500000001")
    }

    func testPrompts() async throws {
        let erp = try ERPTest.make(ERPTest.yaml())
        XCTAssertEqual(erp.prompts.map(\.name), ["summarize_open_purchase_orders", "invoice_exception_review"])
        XCTAssertEqual(erp.prompts.first?.arguments.first?.required, true)
        let summary = try await erp.getPrompt("summarize_open_purchase_orders", arguments: ["supplier_id": "0000100017"], context: ERPTest.context())
        guard case .text(let text)? = summary.messages.first?.content else { return XCTFail("expected a text message") }
        XCTAssertEqual(summary.messages.first?.role, .user)
        XCTAssertTrue(text.contains("erp__get_supplier"))
        XCTAssertTrue(text.contains("erp__search_purchase_orders"))
        XCTAssertTrue(text.contains("partially_received"))
        XCTAssertTrue(text.contains("0000100017"))
        let review = try await erp.getPrompt("invoice_exception_review", arguments: ["cost_center": "CC1000"], context: ERPTest.context())
        guard case .text(let reviewText)? = review.messages.first?.content else { return XCTFail("expected a text message") }
        XCTAssertTrue(reviewText.contains("erp__search_invoices"))
        XCTAssertTrue(reviewText.contains("\"cost_center\": \"CC1000\""))
        _ = await ERPTest.brokerError(.notFound) { _ = try await erp.getPrompt("nope", arguments: [:], context: ERPTest.context()) }
    }

    private func configError(_ yaml: String) -> ConfigError? {
        do {
            _ = try ERPTest.make(yaml)
            XCTFail("expected a configuration error")
        } catch let error as ConfigError {
            return error
        } catch {
            XCTFail("expected ConfigError, got \(error)")
        }
        return nil
    }

    func testConfigurationErrors() throws {
        let inline = configError(ERPTest.yaml(clientPassword: "hunter2"))
        XCTAssertEqual(inline?.path, "credentials.password")
        XCTAssertTrue(inline?.reason.contains("inline secrets are refused") ?? false)
        XCTAssertFalse(inline?.description.contains("hunter2") ?? true)

        let unknown = configError(ERPTest.yaml(extraSystem: ", latncy_ms: 5"))
        XCTAssertEqual(unknown?.path, "system.latncy_ms")
        XCTAssertTrue(unknown?.reason.contains("unknown key") ?? false)

        let topLevel = configError(ERPTest.yaml() + "\ncolour: blue\n")
        XCTAssertEqual(topLevel?.path, "colour")

        let noTenants = configError(ERPTest.yaml().replacingOccurrences(of: "tenants: [acme, globex]", with: "tenants: []"))
        XCTAssertEqual(noTenants?.path, "system.tenants")

        let badRate = configError(ERPTest.yaml(extraSystem: ", fault_rate: 2"))
        XCTAssertEqual(badRate?.path, "system.fault_rate")

        let missingEnv = configError(ERPTest.yaml(clientPassword: "env:TEST_ERP_NOT_SET_ANYWHERE"))
        XCTAssertEqual(missingEnv?.path, "credentials.password")

        let noCredentials = configError("system: { tenants: [acme], client: \"100\", user: U, password: env:TEST_ERP_SYSTEM_PASSWORD }")
        XCTAssertEqual(noCredentials?.path, "credentials")
        XCTAssertEqual(MockERP.kind.name, "mock-erp")
    }
}
