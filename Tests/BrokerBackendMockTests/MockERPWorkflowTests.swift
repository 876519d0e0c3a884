// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import Synchronization
import XCTest

@testable import BrokerBackendMockERP

final class MockERPWorkflowTests: XCTestCase {
    override func setUp() {
        super.setUp()
        ERPTest.prepareEnvironment()
    }

    func testPaginationWalksPagesAndBindsCursors() async throws {
        let erp = try ERPTest.make(ERPTest.yaml())
        var seen: [String] = []
        var cursor: JSONValue?
        var total: Int64?
        for _ in 0..<3 {
            var args: [String: JSONValue] = ["page_size": 10, "status": "closed"]
            if let cursor { args["cursor"] = cursor }
            let page = try await ERPTest.call(erp, "search_purchase_orders", args)
            seen += ERPTest.ids(page, "po_number")
            total = total ?? page["total"]?.intValue
            XCTAssertEqual(page["total"]?.intValue, total)
            cursor = try XCTUnwrap(page["next_cursor"].flatMap { $0.isNull ? nil : $0 })
            for item in page["items"]?.arrayValue ?? [] { XCTAssertEqual(item["status"], "closed") }
        }
        XCTAssertEqual(seen.count, 30)
        XCTAssertEqual(Set(seen).count, 30, "pages overlap")
        XCTAssertEqual(seen, seen.sorted(by: >), "orders should come newest first")

        let foreign = await ERPTest.brokerError(.invalidArguments) {
            _ = try await ERPTest.call(erp, "search_purchase_orders", ["page_size": 10, "status": "closed", "cursor": cursor ?? .null], tenant: "globex")
        }
        XCTAssertEqual(foreign?.message, "The cursor is not valid for this search; start again without a cursor.")
        _ = await ERPTest.brokerError(.invalidArguments) {
            _ = try await ERPTest.call(erp, "search_purchase_orders", ["page_size": 10, "status": "released", "cursor": cursor ?? .null])
        }
        _ = await ERPTest.brokerError(.invalidArguments) { _ = try await ERPTest.call(erp, "search_suppliers", ["cursor": "not a cursor!"]) }

        let lastPage = try await ERPTest.call(erp, "search_suppliers", ["page_size": 100, "cursor": .string(ERPCursor.encode(
            backend: "erp", context: ERPTest.context(), offset: 150, fingerprint: ERPCursor.fingerprint(tool: "search_suppliers", filters: [:])) ?? "")])
        XCTAssertEqual(lastPage["items"]?.arrayValue?.count, 50)
        XCTAssertEqual(lastPage["next_cursor"], .null)
    }

    func testSearchFilters() async throws {
        let erp = try ERPTest.make(ERPTest.yaml())
        let open = try await ERPTest.call(
            erp, "search_purchase_orders", ["status": "open", "from_date": "2026-01-01", "to_date": "2026-06-30", "min_total": 1000, "page_size": 100])
        XCTAssertGreaterThan(open["total"]?.intValue ?? 0, 0)
        for o in open["items"]?.arrayValue ?? [] {
            XCTAssertTrue(["released", "partially_received"].contains(o["status"]?.stringValue ?? ""))
            XCTAssertGreaterThanOrEqual(o["order_date"]?.stringValue ?? "", "2026-01-01")
            XCTAssertGreaterThanOrEqual(o["total_amount"]?.doubleValue ?? 0, 1000)
        }
        let bad = await ERPTest.brokerError(.invalidArguments) {
            _ = try await ERPTest.call(erp, "search_invoices", ["from_date": "2026-02-01", "to_date": "2026-01-01"])
        }
        XCTAssertTrue(bad?.message.contains("from_date") ?? false)

        let blocked = try await ERPTest.call(erp, "search_suppliers", ["status": "blocked", "page_size": 100])
        XCTAssertGreaterThan(blocked["total"]?.intValue ?? 0, 0)
        for s in blocked["items"]?.arrayValue ?? [] { XCTAssertEqual(s["status"], "blocked") }
        let name = try XCTUnwrap(blocked["items"]?.arrayValue?.first?["name"]?.stringValue)
        let byName = try await ERPTest.call(erp, "search_suppliers", ["query": .string(String(name.prefix(8)).uppercased()), "page_size": 100])
        XCTAssertTrue(ERPTest.ids(byName, "supplier_id").contains(ERPTest.ids(blocked, "supplier_id")[0]))

        let low = try await ERPTest.call(erp, "check_inventory", ["below_quantity": 50, "plant": "2000", "page_size": 100])
        XCTAssertGreaterThan(low["total"]?.intValue ?? 0, 0)
        for s in low["items"]?.arrayValue ?? [] {
            XCTAssertLessThan(s["unrestricted_quantity"]?.doubleValue ?? 99, 50)
            XCTAssertEqual(s["plant"], "2000")
        }

        let supplierOrders = try await ERPTest.call(erp, "search_purchase_orders", ["supplier_id": "100001", "page_size": 100])
        XCTAssertGreaterThan(supplierOrders["total"]?.intValue ?? 0, 0)
        for o in supplierOrders["items"]?.arrayValue ?? [] { XCTAssertEqual(o["supplier_id"], "0000100001") }
        let detail = try await ERPTest.call(erp, "get_supplier", ["supplier_id": "100001"])
        let openForSupplier = try await ERPTest.call(erp, "search_purchase_orders", ["supplier_id": "100001", "status": "open", "page_size": 1])
        XCTAssertEqual(detail["open_order_count"], openForSupplier["total"])
    }

    /// A purchase-order request for an active supplier.
    private func orderArguments(_ erp: any Backend, key: String, tenant: String = "acme") async throws -> [String: JSONValue] {
        let suppliers = try await ERPTest.call(erp, "search_suppliers", ["status": "active", "page_size": 1], tenant: tenant)
        let stock = try await ERPTest.call(erp, "check_inventory", ["page_size": 2], tenant: tenant)
        let materials = ERPTest.ids(stock, "material_id")
        return [
            "supplier_id": .string(try XCTUnwrap(ERPTest.ids(suppliers, "supplier_id").first)), "cost_center": "CC1000",
            "lines": [["material_id": .string(materials[0]), "quantity": 5], ["material_id": .string(materials[1]), "quantity": 2, "unit_price": 12.5]],
            "idempotency_key": .string(key),
        ]
    }

    func testCreatePurchaseOrderIsIdempotent() async throws {
        let erp = try ERPTest.make(ERPTest.yaml())
        let before = try await ERPTest.call(erp, "search_purchase_orders", ["page_size": 1])
        let args = try await orderArguments(erp, key: "create-key-0001")
        let first = try await ERPTest.call(erp, "create_purchase_order", args)
        XCTAssertEqual(first["status"], "awaiting_approval")
        XCTAssertEqual(first["lines"]?.arrayValue?.count, 2)
        XCTAssertEqual(first["lines"]?.arrayValue?[1]["unit_price"]?.doubleValue, 12.5)
        XCTAssertEqual(first["order_date"], "2026-06-30")
        let second = try await ERPTest.call(erp, "create_purchase_order", args)
        XCTAssertEqual(first["po_number"], second["po_number"])
        let after = try await ERPTest.call(erp, "search_purchase_orders", ["page_size": 1])
        XCTAssertEqual((after["total"]?.intValue ?? 0) - (before["total"]?.intValue ?? 0), 1)
        XCTAssertEqual(ERPTest.ids(after, "po_number").first, first["po_number"]?.stringValue)
        let fetched = try await ERPTest.call(erp, "get_purchase_order", ["po_number": first["po_number"] ?? .null])
        XCTAssertEqual(fetched, first)

        var changed = args
        changed["cost_center"] = "CC1010"
        let conflict = await ERPTest.brokerError(.conflict) { _ = try await ERPTest.call(erp, "create_purchase_order", changed) }
        XCTAssertTrue(conflict?.message.contains("new idempotency_key") ?? false, conflict?.message ?? "")
        // The same key in another tenant is another request.
        let globexArgs = try await orderArguments(erp, key: "create-key-0001", tenant: "globex")
        _ = try await ERPTest.call(erp, "create_purchase_order", globexArgs, tenant: "globex")
    }

    func testCreatePurchaseOrderBusinessChecks() async throws {
        let erp = try ERPTest.make(ERPTest.yaml())
        var args = try await orderArguments(erp, key: "create-key-0002")
        let blocked = try await ERPTest.call(erp, "search_suppliers", ["status": "blocked", "page_size": 1])
        let blockedID = try XCTUnwrap(ERPTest.ids(blocked, "supplier_id").first)
        var blockedArgs = args
        blockedArgs["supplier_id"] = .string(blockedID)
        let conflict = await ERPTest.brokerError(.conflict) { _ = try await ERPTest.call(erp, "create_purchase_order", blockedArgs) }
        XCTAssertTrue(conflict?.message.hasPrefix("Supplier \(blockedID) is blocked for purchasing") ?? false, conflict?.message ?? "")

        args["idempotency_key"] = "create-key-0003"
        args["cost_center"] = "CC9990"
        let centre = await ERPTest.brokerError(.invalidArguments) { _ = try await ERPTest.call(erp, "create_purchase_order", args) }
        XCTAssertTrue(centre?.message.contains("Cost centre CC9990 does not exist") ?? false, centre?.message ?? "")

        args["cost_center"] = "CC1000"
        args["lines"] = [["material_id": "MAT-000001", "quantity": 1], ["material_id": "MAT-999999", "quantity": 1]]
        let material = await ERPTest.brokerError(.invalidArguments) { _ = try await ERPTest.call(erp, "create_purchase_order", args) }
        XCTAssertTrue(material?.message.contains("Material MAT-999999 (line 2) does not exist") ?? false, material?.message ?? "")
    }

    func testApproveInvoice() async throws {
        let erp = try ERPTest.make(ERPTest.yaml())
        let parked = try await ERPTest.call(erp, "search_invoices", ["status": "blocked", "page_size": 1])
        let id = try XCTUnwrap(ERPTest.ids(parked, "invoice_id").first)
        let approved = try await ERPTest.call(erp, "approve_invoice", ["invoice_id": .string(id), "idempotency_key": "approve-0001"])
        XCTAssertEqual(approved["status"], "approved")
        XCTAssertEqual(approved["block_reason"], .null)
        let replay = try await ERPTest.call(erp, "approve_invoice", ["invoice_id": .string(id), "idempotency_key": "approve-0001"])
        XCTAssertEqual(replay, approved)
        let again = await ERPTest.brokerError(.conflict) {
            _ = try await ERPTest.call(erp, "approve_invoice", ["invoice_id": .string(id), "idempotency_key": "approve-0002"])
        }
        XCTAssertEqual(again?.message, "Invoice \(id) is already approved for payment and cannot be approved.")

        let paid = try await ERPTest.call(erp, "search_invoices", ["status": "paid", "page_size": 1])
        let paidID = try XCTUnwrap(ERPTest.ids(paid, "invoice_id").first)
        let paidError = await ERPTest.brokerError(.conflict) {
            _ = try await ERPTest.call(erp, "approve_invoice", ["invoice_id": .string(paidID), "idempotency_key": "approve-0003"])
        }
        XCTAssertEqual(paidError?.message, "Invoice \(paidID) is already paid and cannot be approved.")
        let missing = await ERPTest.brokerError(.notFound) {
            _ = try await ERPTest.call(erp, "approve_invoice", ["invoice_id": "5199999999", "idempotency_key": "approve-0004"])
        }
        XCTAssertEqual(missing?.message, "Invoice 5199999999 not found.")
    }

    func testSpendReportReportsIncreasingProgress() async throws {
        let erp = try ERPTest.make(ERPTest.yaml())
        let recorder = Recorder()
        let report = try await ERPTest.call(
            erp, "spend_report", ["from_date": "2023-07-01", "to_date": "2026-06-30", "group_by": "supplier", "top": 5], recorder: recorder)
        let progress = recorder.progressValues.withLock { $0 }
        XCTAssertGreaterThanOrEqual(progress.count, 3, "3000 orders should take several chunks")
        for (a, b) in zip(progress, progress.dropFirst()) { XCTAssertLessThan(a.value, b.value) }
        let orderCount = Double(report["order_count"]?.intValue ?? -1)
        XCTAssertEqual(progress.last?.value, progress.last?.total)
        XCTAssertEqual(progress.last?.total, orderCount)
        XCTAssertEqual(recorder.logs.withLock { $0.count }, 1)
        let groups = report["groups"]?.arrayValue ?? []
        XCTAssertEqual(groups.count, 5)
        let amounts = groups.compactMap { $0["amount"]?.doubleValue }
        XCTAssertEqual(amounts, amounts.sorted(by: >))

        let all = try await ERPTest.call(erp, "search_purchase_orders", ["from_date": "2023-07-01", "to_date": "2026-06-30", "page_size": 1])
        let rejected = try await ERPTest.call(
            erp, "search_purchase_orders", ["from_date": "2023-07-01", "to_date": "2026-06-30", "status": "rejected", "page_size": 1])
        XCTAssertEqual(report["order_count"]?.intValue, (all["total"]?.intValue ?? 0) - (rejected["total"]?.intValue ?? 0))

        let months = try await ERPTest.call(erp, "spend_report", ["from_date": "2026-01-01", "to_date": "2026-06-30", "group_by": "month"])
        XCTAssertEqual((months["groups"]?.arrayValue ?? []).compactMap { $0["key"]?.stringValue }, (1...6).map { "2026-0\($0)" })
        let sum = (months["groups"]?.arrayValue ?? []).compactMap { $0["amount"]?.doubleValue }.reduce(0, +)
        XCTAssertEqual(sum, months["total_amount"]?.doubleValue ?? -1, accuracy: 0.01)
        let centres = try await ERPTest.call(erp, "spend_report", ["from_date": "2026-01-01", "to_date": "2026-06-30", "group_by": "cost_center"])
        XCTAssertNotEqual(centres["groups"]?.arrayValue?.first?["label"], centres["groups"]?.arrayValue?.first?["key"])

        _ = await ERPTest.brokerError(.invalidArguments) { _ = try await ERPTest.call(erp, "spend_report", ["from_date": "2026-02-01", "to_date": "2026-01-01"]) }
    }

    func testSpendReportHonoursDeadline() async throws {
        let erp = try ERPTest.make(ERPTest.yaml())
        let context = ERPTest.context(deadline: .zero)
        do {
            _ = try await erp.callTool("spend_report", arguments: ["from_date": "2023-07-01", "to_date": "2026-06-30"], context: context)
            XCTFail("expected a timeout")
        } catch let error as BrokerError {
            XCTAssertEqual(error.code, .timeout)
        }
    }
}
