// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import SimulationKit
import XCTest

@testable import BrokerBackendMockERP

/// The simulated system on its own native wire, without the plugin.
final class MockERPSystemTests: XCTestCase {
    private func system() throws -> ERPSystem {
        ERPTest.prepareEnvironment()
        let password = try XCTUnwrap(SecretReference(parsing: "env:TEST_ERP_SYSTEM_PASSWORD"))
        var sizes = ERPSizes()
        sizes.purchaseOrders = 2000
        sizes.invoices = 1000
        return ERPSystem(
            settings: ERPSystem.Settings(seed: 42, tenants: ["acme"], client: "100", user: "BROKER_SVC", password: password, sizes: sizes),
            faults: FaultPlan())
    }

    private func headers(user: String = "BROKER_SVC", password: String = ERPTest.password, client: String = "100") -> [String: String] {
        [
            "sap-client": client, "authorization": "Basic " + Data("\(user):\(password)".utf8).base64EncodedString(), "x-erp-partition": "acme",
        ]
    }

    func testNativeEnvelopeAndErrors() async throws {
        let erp = try system()
        let list = try await erp.handle(
            ERPRequest(method: .get, path: "/A_PurchaseOrder", query: ["$top": 2, "$inlinecount": "allpages"], headers: headers()))
        XCTAssertEqual(list.status, 200)
        XCTAssertEqual(list.body["d"]?["results"]?.arrayValue?.count, 2)
        XCTAssertEqual(list.body["d"]?["__count"], "2000")
        XCTAssertEqual(list.body["d"]?["__next"], "A_PurchaseOrder?$skiptoken=2")
        XCTAssertEqual(list.body["d"]?["results"]?.arrayValue?.first?["EBELN"], "4500000001")
        XCTAssertNotNil(list.body["d"]?["results"]?.arrayValue?.first?["PROCSTAT"]?.stringValue)

        for bad in [headers(password: "wrong"), headers(user: "SOMEONE"), headers(client: "200"), [:]] {
            let refused = try await erp.handle(ERPRequest(method: .get, path: "/A_Supplier", headers: bad))
            XCTAssertEqual(refused.status, 401)
            XCTAssertEqual(refused.errorCode, "/IWFND/CM_CONSUMER/401")
            XCTAssertEqual(refused.body["error"]?["message"]?["lang"], "en")
        }

        let filter: JSONValue = [["property": "BEDAT", "op": "ge", "value": "2025-01-01"]]
        let invalid = try await erp.handle(ERPRequest(method: .get, path: "/A_PurchaseOrder", query: ["$filter": filter], headers: headers()))
        XCTAssertEqual(invalid.status, 400)
        XCTAssertEqual(invalid.errorCode, "ME/083")
        let unknownProperty = try await erp.handle(
            ERPRequest(method: .get, path: "/A_Supplier", query: ["$filter": [["property": "PASSWORD", "op": "eq", "value": "x"]]], headers: headers()))
        XCTAssertEqual(unknownProperty.errorCode, "ME/083")

        let missing = try await erp.handle(ERPRequest(method: .get, path: "/A_PurchaseOrder('4500004711')", headers: headers()))
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.errorCode, "ME/006")
        XCTAssertEqual(missing.body["error"]?["message"]?["value"], "Purchase order 4500004711 does not exist")

        var foreign = headers()
        foreign["x-erp-partition"] = "globex"
        let forbidden = try await erp.handle(ERPRequest(method: .get, path: "/A_Supplier", headers: foreign))
        XCTAssertEqual(forbidden.status, 403)

        let noKey = try await erp.handle(ERPRequest(method: .post, path: "/ReleaseSupplierInvoice", body: ["BELNR": "5105600001"], headers: headers()))
        XCTAssertEqual(noKey.status, 400)

        erp.faults.setOutage(true)
        let down = try await erp.handle(ERPRequest(method: .get, path: "/", headers: headers()))
        XCTAssertEqual(down.status, 503)
        XCTAssertEqual(down.errorCode, "/IWFND/SRV/503")
    }

    func testConcurrentDuplicateWritesCreateOneOrder() async throws {
        let erp = try ERPTest.make(ERPTest.yaml())
        let before = try await ERPTest.call(erp, "search_purchase_orders", ["page_size": 1])
        let args: [String: JSONValue] = [
            "supplier_id": "100002", "cost_center": "CC1000", "lines": [["material_id": "MAT-000002", "quantity": 3]], "idempotency_key": "parallel-0001",
        ]
        let numbers = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask { try await erp.callTool("create_purchase_order", arguments: args, context: ERPTest.context()).structured?["po_number"]?.stringValue ?? "" }
            }
            var out: Set<String> = []
            for try await n in group { out.insert(n) }
            return out
        }
        XCTAssertEqual(numbers.count, 1, "duplicates created \(numbers)")
        let after = try await ERPTest.call(erp, "search_purchase_orders", ["page_size": 1])
        XCTAssertEqual((after["total"]?.intValue ?? 0) - (before["total"]?.intValue ?? 0), 1)

        let distinct = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<6 {
                var a = args
                a["idempotency_key"] = .string("parallel-key-\(i)")
                group.addTask { try await erp.callTool("create_purchase_order", arguments: a, context: ERPTest.context()).structured?["po_number"]?.stringValue ?? "" }
            }
            var out: Set<String> = []
            for try await n in group { out.insert(n) }
            return out
        }
        XCTAssertEqual(distinct.count, 6)
    }
}
