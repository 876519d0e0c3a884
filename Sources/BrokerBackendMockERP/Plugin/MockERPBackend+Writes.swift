// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// The write tools. Idempotency is enforced by the ERP itself through the Repeatability-Request-ID header.
extension MockERPBackend {
    func createPurchaseOrder(_ a: [String: JSONValue], _ context: CallContext) async throws(BrokerError) -> ToolOutput {
        let lines = a["lines"]?.arrayValue ?? []
        var items: [JSONValue] = []
        for line in lines {
            var item: [String: JSONValue] = [
                "MATNR": .string(line["material_id"]?.stringValue ?? ""), "MENGE": .string(String(line["quantity"]?.intValue ?? 0)),
            ]
            if let price = line["unit_price"]?.doubleValue {
                guard let text = ERPNormalizer.decimalText(price), (Int64(centsOf: price) ?? 0) >= 1 else {
                    throw BrokerError.invalidArguments("unit_price must be between 0.01 and \(ERPNormalizer.maxAmount.plainText).")
                }
                item["NETPR"] = .string(text)
            }
            items.append(.object(item))
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
