// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// The write tools. Idempotency is enforced by the ERP itself through the Repeatability-Request-ID header.
extension MockERPBackend {
    func createPurchaseOrder(_ a: [String: JSONValue], _ context: CallContext) async throws(BrokerError) -> ToolOutput {
        let lines = a["lines"]?.arrayValue ?? []
        let items: [JSONValue] = lines.map { line in
            var item: [String: JSONValue] = [
                "MATNR": .string(line["material_id"]?.stringValue ?? ""), "MENGE": .string(String(line["quantity"]?.intValue ?? 0)),
            ]
            if let price = line["unit_price"]?.doubleValue { item["NETPR"] = .string(ERPNormalizer.decimalText(price)) }
            return .object(item)
        }
        if lines.contains(where: { ($0["unit_price"]?.doubleValue).map { ($0 * 100).rounded() < 1 } ?? false }) {
            throw BrokerError.invalidArguments("unit_price must be at least 0.01.")
        }
        let body: JSONValue = [
            "LIFNR": .string(ERPNormalizer.supplierKey(a["supplier_id"]?.stringValue ?? "")),
            "KOSTL": .string(a["cost_center"]?.stringValue ?? ""), "to_Item": .array(items),
        ]
        let d = try await send(.post, "/A_PurchaseOrder", body: body, idempotencyKey: a["idempotency_key"]?.stringValue, context: context)
        let order = ERPNormalizer.order(d)
        return ToolOutput(structured: order, text: Self.orderText(order, verb: "Created purchase order"))
    }

    func approveInvoice(_ a: [String: JSONValue], _ context: CallContext) async throws(BrokerError) -> ToolOutput {
        let id = a["invoice_id"]?.stringValue ?? ""
        let d = try await send(.post, "/ReleaseSupplierInvoice", body: ["BELNR": .string(id)], idempotencyKey: a["idempotency_key"]?.stringValue, context: context)
        let invoice = JSONValue.object(ERPNormalizer.invoice(d))
        return ToolOutput(structured: invoice, text: "Approved invoice " + Self.invoiceLine(invoice))
    }
}
