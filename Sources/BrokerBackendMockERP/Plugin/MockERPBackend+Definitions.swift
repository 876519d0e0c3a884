// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// The tool catalogue.
extension MockERPBackend {
    static let read = ToolAnnotations(readOnly: true, idempotent: true)
    static let write = ToolAnnotations(readOnly: false, destructive: false, idempotent: true)

    static func toolDefinitions(description: String?) -> [ToolDefinition] {
        typealias S = ERPSchemas
        let suffix = description.map { " (\($0))" } ?? ""
        func tool(_ name: String, _ title: String, _ text: String, _ input: JSONValue, _ output: JSONValue, _ annotations: ToolAnnotations) -> ToolDefinition {
            var a = annotations
            a.title = title
            return ToolDefinition(name: name, title: title, description: text + suffix, inputSchema: input, outputSchema: output, annotations: a)
        }
        let orderStatusFilter = S.string(
            "Order status; 'open' means released or partially_received.", enumeration: ["open"] + S.orderStatusWords)
        return [
            tool(
                "search_suppliers", "Search suppliers",
                "Searches the ERP supplier (vendor) master by name, country and purchasing status. Returns a page of suppliers; use get_supplier for open orders.",
                S.search([
                    "query": S.string("Part of the supplier name, case-insensitive.").merging(["minLength": 1, "maxLength": 60]),
                    "country": S.string("ISO 3166 two-letter country code, e.g. DE.", pattern: "^[A-Z]{2}$"),
                    "status": S.string("active or blocked (blocked suppliers cannot receive new orders).", enumeration: ["active", "blocked"]),
                ]), S.page(S.supplier), read),
            tool(
                "get_supplier", "Get supplier",
                "Gets one supplier with its number of open purchase orders (released or partially received) and the value still to be delivered on them.",
                S.input(["supplier_id": S.supplierID], required: ["supplier_id"]),
                S.object(
                    S.supplierProperties.merging([
                        "open_order_count": S.typed("integer", "Open purchase orders."),
                        "open_amount": S.typed("number", "Value still to be delivered on open orders."),
                        "currency": S.typed("string", "Currency of open_amount."),
                        "oldest_open_order_date": S.nullableString("Order date of the oldest open order (yyyy-MM-dd), or null."),
                    ]) { a, _ in a }, required: ["supplier_id", "name", "status", "open_order_count", "open_amount", "currency"]), read),
            tool(
                "search_purchase_orders", "Search purchase orders",
                "Searches purchase order headers, newest first, by supplier, status, cost centre, order date range and minimum value. Each item has total_amount and line_count; use get_purchase_order for the lines.",
                S.search([
                    "supplier_id": S.supplierID, "status": orderStatusFilter, "cost_center": S.costCenter,
                    "from_date": S.date("Earliest order date (yyyy-MM-dd)."), "to_date": S.date("Latest order date (yyyy-MM-dd)."),
                    "min_total": ["type": "number", "minimum": 0, "maximum": .double(ERPNormalizer.maxAmount), "description": "Minimum net order value."],
                ]), S.page(S.orderHeader), read),
            tool(
                "get_purchase_order", "Get purchase order",
                "Gets one purchase order with its lines (material, quantity, unit price, received quantity).",
                S.input(["po_number": S.poNumber], required: ["po_number"]), S.order, read),
            tool(
                "search_invoices", "Search supplier invoices",
                "Searches supplier invoices, newest first, by status (parked, blocked, approved, paid), supplier, purchase order, cost centre and invoice date range.",
                S.search([
                    "status": S.string("Invoice status.", enumeration: S.invoiceStatusWords), "supplier_id": S.supplierID, "po_number": S.poNumber,
                    "cost_center": S.costCenter, "from_date": S.date("Earliest invoice date (yyyy-MM-dd)."),
                    "to_date": S.date("Latest invoice date (yyyy-MM-dd)."),
                ]), S.page(S.invoice), read),
            tool(
                "get_invoice", "Get supplier invoice",
                "Gets one supplier invoice with a summary of the purchase order it bills.",
                S.input(["invoice_id": S.invoiceID], required: ["invoice_id"]),
                S.object(
                    S.invoiceProperties.merging(["purchase_order": S.orderHeader]) { a, _ in a },
                    required: ["invoice_id", "status", "gross_amount", "currency", "purchase_order"]), read),
            tool(
                "check_inventory", "Check inventory",
                "Shows unrestricted stock per material and plant. Filter by material, plant, description text, or below_quantity to find low stock.",
                S.search([
                    "material_id": S.materialID, "plant": S.string("Plant code (see the plants resource).", enumeration: ERPCatalog.plants.map(\.code)),
                    "query": S.string("Part of the material description, case-insensitive.").merging(["minLength": 1, "maxLength": 60]),
                    "below_quantity": ["type": "integer", "minimum": 0, "maximum": .int(Int64(Int32.max)), "description": "Only positions with stock strictly below this quantity."],
                ]), S.page(S.stock), read),
            tool(
                "list_cost_centers", "List cost centres",
                "Lists the cost centres (id, name, person responsible), optionally filtered by name.",
                S.input(["query": S.string("Part of the cost centre name, case-insensitive.").merging(["minLength": 1, "maxLength": 60])]),
                S.object(["items": S.array(S.costCenterItem), "total": S.typed("integer", "Number of cost centres returned.")], required: ["items", "total"]),
                read),
            tool(
                "create_purchase_order", "Create purchase order",
                "Creates a purchase order for a supplier and cost centre; it starts in status awaiting_approval. Unit prices default to the material's standard price. Retrying with the same idempotency_key returns the same order.",
                S.input(
                    [
                        "supplier_id": S.supplierID, "cost_center": S.costCenter,
                        "lines": [
                            "type": "array", "minItems": 1, "maxItems": 20, "description": "Order lines (1-20).",
                            "items": S.input(
                                [
                                    "material_id": S.materialID,
                                    "quantity": ["type": "integer", "minimum": 1, "maximum": 1_000_000, "description": "Quantity in the material's unit."],
                                    "unit_price": [
                                        "type": "number", "exclusiveMinimum": 0, "maximum": 10_000_000,
                                        "description": "Net price per unit; defaults to the standard price.",
                                    ],
                                ], required: ["material_id", "quantity"]),
                        ],
                        "idempotency_key": S.idempotencyKey,
                    ], required: ["supplier_id", "cost_center", "lines", "idempotency_key"]), S.order, write),
            tool(
                "approve_invoice", "Approve invoice",
                "Approves a parked or blocked supplier invoice for payment. Paid or already approved invoices cannot be approved. Retrying with the same idempotency_key is safe.",
                S.input(["invoice_id": S.invoiceID, "idempotency_key": S.idempotencyKey], required: ["invoice_id", "idempotency_key"]),
                S.invoice, write),
            tool(
                "spend_report", "Spend report",
                "Analyses purchasing spend (orders not rejected) in a date range, grouped by supplier, cost centre or month; scans all orders in the range and reports progress. supplier and cost_center return the top groups by amount; month returns every month chronologically.",
                S.input(
                    [
                        "from_date": S.date("First order date (yyyy-MM-dd)."), "to_date": S.date("Last order date (yyyy-MM-dd)."),
                        "group_by": S.string("Grouping (default supplier).", enumeration: ["supplier", "cost_center", "month"]),
                        "top": ["type": "integer", "minimum": 1, "maximum": 50, "default": 10, "description": "Number of groups for supplier/cost_center (default 10)."],
                    ], required: ["from_date", "to_date"]),
                S.object(
                    [
                        "from_date": S.typed("string", "Start of the range."), "to_date": S.typed("string", "End of the range."),
                        "group_by": S.typed("string", "Grouping used."), "currency": S.typed("string", "Currency of all amounts."),
                        "total_amount": S.typed("number", "Spend over all orders in the range."),
                        "order_count": S.typed("integer", "Orders in the range."),
                        "groups": S.array(
                            S.object(
                                [
                                    "key": S.typed("string", "Supplier id, cost centre id or yyyy-MM."), "label": S.typed("string", "Readable name."),
                                    "amount": S.typed("number", "Spend."), "order_count": S.typed("integer", "Orders."),
                                ], required: ["key", "label", "amount", "order_count"])),
                    ], required: ["from_date", "to_date", "group_by", "currency", "total_amount", "order_count", "groups"]),
                read),
        ]
    }
}

extension JSONValue {
    /// This object with `extra` keys added (for extending a schema).
    func merging(_ extra: [String: JSONValue]) -> JSONValue {
        guard case .object(var o) = self else { return self }
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }
}
