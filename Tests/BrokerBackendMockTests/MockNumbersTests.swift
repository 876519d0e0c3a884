// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore
import XCTest

@testable import BrokerBackendMockERP
@testable import BrokerBackendMockHR

/// No number from a caller or a backend document can trap the mock systems or their plugins: schemas carry the bounds
/// the ERP can hold, conversions are checked, and sums report overflow instead of wrapping or trapping.
final class MockNumbersTests: XCTestCase {
    func schema(_ backend: any Backend, _ tool: String) throws -> CompiledSchema {
        try CompiledSchema(try XCTUnwrap(backend.tools.first { $0.name == tool }).inputSchema)
    }

    func testSchemasRefuseAmountsTheERPCannotHold() throws {
        let erp = try ERPTest.make(ERPTest.yaml())
        let search = try schema(erp, "search_purchase_orders")
        XCTAssertFalse(try search.validate(["min_total": 1e17]).isEmpty, "1e17 is beyond the ERP's DEC 15,2")
        XCTAssertFalse(try search.validate(["min_total": 1.7976931348623157e308]).isEmpty)
        XCTAssertTrue(try search.validate(["min_total": 9_999_999_999_999.99]).isEmpty)
        XCTAssertFalse(try schema(erp, "check_inventory").validate(["below_quantity": 9_223_372_036_854_775_807]).isEmpty)
    }

    func testThePluginRefusesUnrepresentableAmountsEvenPastTheSchema() async throws {
        let erp = try ERPTest.make(ERPTest.yaml())
        let context = ERPTest.context()
        for bad in [1e17, .infinity, .nan, -1, 1e308] {
            let refusal = await ERPTest.brokerError(.invalidArguments) {
                _ = try await erp.callTool("search_purchase_orders", arguments: ["min_total": .double(bad)], context: context)
            }
            XCTAssertTrue(refusal?.message.contains("min_total") ?? false, "\(bad): \(refusal?.message ?? "")")
        }
    }

    func testAnOrderWhoseValueOverflowsIsRefusedByTheERP() async throws {
        let erp = try ERPTest.make(ERPTest.yaml())
        let suppliers = try await ERPTest.call(erp, "search_suppliers", ["status": "active", "page_size": 1])
        let stock = try await ERPTest.call(erp, "check_inventory", ["page_size": 1])
        // 1,000,000 × 9,999,999,999,999.99 is 10^21 cents: past Int64, so the ERP must refuse, not wrap or trap.
        let args: [String: JSONValue] = [
            "supplier_id": .string(try XCTUnwrap(ERPTest.ids(suppliers, "supplier_id").first)), "cost_center": "CC1000",
            "lines": [["material_id": .string(try XCTUnwrap(ERPTest.ids(stock, "material_id").first)), "quantity": 1_000_000, "unit_price": 9_999_999_999_999.99]],
            "idempotency_key": "overflow-order-0001",
        ]
        do {
            _ = try await erp.callTool("create_purchase_order", arguments: args, context: ERPTest.context())
            XCTFail("an order worth 10^19 must be refused")
        } catch let error as BrokerError {
            XCTAssertEqual(error.code, .invalidArguments, "\(error)")
        }
    }

    func testNativeDecimalsThatOverflowAreMalformedNotTraps() {
        XCTAssertNil(ERPDecimal.parseCents("92233720368547758.08"))
        XCTAssertNil(ERPDecimal.parseCents("9223372036854775807"))
        XCTAssertEqual(ERPDecimal.parseCents("92233720368547758.07"), Int64.max)
        XCTAssertEqual(ERPDecimal.parseCents("12.5"), 1250)
    }

    func testHugeAmountsInBackendDocumentsAreShownNotTrapped() {
        XCTAssertEqual(ERPNormalizer.money(.double(1e300), "EUR"), "1e+300 EUR")
        XCTAssertEqual(ERPNormalizer.money(.double(12345.6), "EUR"), "12,345.60 EUR")
        XCTAssertNil(ERPNormalizer.cents("1e300"))
        XCTAssertEqual(ERPNormalizer.quantity("1e300"), .double(1e300))
        XCTAssertEqual(ERPNormalizer.quantity("12.000"), .int(12))
        XCTAssertNil(ERPNormalizer.decimalText(-0.5))
        XCTAssertEqual(ERPNormalizer.decimalText(-0.0), "0.00")
        XCTAssertEqual(MockHRBackend.money(1e300), "1e+300")
        XCTAssertEqual(MockHRBackend.money(123456.5), "123456.50")
        XCTAssertEqual(HRErrorMapper.days(1e300), "1e+300")
        XCTAssertEqual(HRErrorMapper.days(3.5), "3.5")
    }
}
