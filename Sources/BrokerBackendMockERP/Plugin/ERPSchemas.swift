// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// JSON Schemas of the tools' arguments and results.
enum ERPSchemas {
    // MARK: Builders

    static func object(_ properties: [String: JSONValue], required: [String] = [], closed: Bool = false) -> JSONValue {
        var o: [String: JSONValue] = ["type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) })]
        if closed { o["additionalProperties"] = false }
        return .object(o)
    }

    static func input(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        object(properties, required: required, closed: true)
    }

    static func string(_ description: String, pattern: String? = nil, format: String? = nil, enumeration: [String]? = nil) -> JSONValue {
        var o: [String: JSONValue] = ["type": "string", "description": .string(description)]
        if let pattern { o["pattern"] = .string(pattern) }
        if let format { o["format"] = .string(format) }
        if let enumeration { o["enum"] = .array(enumeration.map { .string($0) }) }
        return .object(o)
    }

    static func typed(_ type: String, _ description: String) -> JSONValue { ["type": .string(type), "description": .string(description)] }
    static func nullableString(_ description: String) -> JSONValue { ["type": ["string", "null"], "description": .string(description)] }
    static func array(_ items: JSONValue) -> JSONValue { ["type": "array", "items": items] }

    // MARK: Shared argument schemas

    static let supplierID = string("Supplier (vendor) number, e.g. 0000100017; leading zeros may be omitted.", pattern: "^[0-9]{1,10}$")
    static let poNumber = string("Purchase order number, 10 digits, e.g. 4500012345.", pattern: "^[0-9]{10}$")
    static let invoiceID = string("Invoice document number, 10 digits, e.g. 5105600123.", pattern: "^[0-9]{10}$")
    static let costCenter = string("Cost centre id, e.g. CC1000 (list_cost_centers shows them).", pattern: "^CC[0-9]{4}$")
    static let materialID = string("Material number, e.g. MAT-000123.", pattern: "^MAT-[0-9]{6}$")
    static let idempotencyKey = string(
        "Unique key for this write (8-64 letters, digits, '_' or '-'). Reuse the same key when retrying the same request; use a new key for a new request.",
        pattern: "^[A-Za-z0-9_-]{8,64}$")
    static let pageSize: JSONValue = ["type": "integer", "minimum": 1, "maximum": 100, "default": 25, "description": "Items per page (1-100, default 25)."]
    static let cursor = string("next_cursor from the previous page of the same search; omit for the first page.")

    static func date(_ description: String) -> JSONValue { string(description, format: "date") }

    /// Adds `page_size` and `cursor` to a search's filters.
    static func search(_ filters: [String: JSONValue], required: [String] = []) -> JSONValue {
        var p = filters
        p["page_size"] = pageSize
        p["cursor"] = cursor
        return input(p, required: required)
    }

    // MARK: Results

    static let orderStatusWords = ERPNormalizer.orderStatuses.map(\.status)
    static let invoiceStatusWords = ERPNormalizer.invoiceStatuses.map(\.status)

    static let supplierProperties: [String: JSONValue] = [
        "supplier_id": typed("string", "Supplier number."), "name": typed("string", "Supplier name."),
        "country": typed("string", "ISO 3166 country code."), "city": typed("string", "City."),
        "status": string("active, or blocked for purchasing.", enumeration: ["active", "blocked"]),
        "payment_terms_days": typed("integer", "Net payment terms in days."),
    ]
    static let supplier = object(supplierProperties, required: Array(supplierProperties.keys).sorted())

    static let orderHeaderProperties: [String: JSONValue] = [
        "po_number": typed("string", "Purchase order number."), "supplier_id": typed("string", "Supplier number."),
        "supplier_name": typed("string", "Supplier name."), "order_date": nullableString("Order date (yyyy-MM-dd)."),
        "status": string("Order status.", enumeration: orderStatusWords), "currency": typed("string", "ISO 4217 currency code."),
        "cost_center": typed("string", "Cost centre charged."), "created_by": typed("string", "ERP user who created the order."),
        "total_amount": typed("number", "Net order value."), "line_count": typed("integer", "Number of order lines."),
    ]
    static let orderHeader = object(orderHeaderProperties, required: Array(orderHeaderProperties.keys).sorted())

    static let orderLine = object(
        [
            "line_number": typed("integer", "Line number (10, 20, ...)."), "material_id": typed("string", "Material number."),
            "description": typed("string", "Material description."), "quantity": typed("number", "Ordered quantity."),
            "unit": typed("string", "Unit of measure."), "unit_price": typed("number", "Net price per unit."),
            "received_quantity": typed("number", "Quantity received so far."), "line_amount": typed("number", "Net line value."),
        ],
        required: ["line_number", "material_id", "quantity", "unit_price", "received_quantity", "line_amount"])

    static let order: JSONValue = {
        var p = orderHeaderProperties
        p["lines"] = array(orderLine)
        return object(p, required: Array(p.keys).sorted())
    }()

    static let invoiceProperties: [String: JSONValue] = [
        "invoice_id": typed("string", "Invoice document number."), "fiscal_year": typed("integer", "Fiscal year."),
        "po_number": typed("string", "Purchase order invoiced."), "supplier_id": typed("string", "Supplier number."),
        "supplier_name": typed("string", "Supplier name."), "cost_center": typed("string", "Cost centre of the purchase order."),
        "invoice_date": nullableString("Invoice date (yyyy-MM-dd)."), "gross_amount": typed("number", "Invoiced gross amount."),
        "currency": typed("string", "ISO 4217 currency code."), "status": string("Invoice status.", enumeration: invoiceStatusWords),
        "block_reason": nullableString("Why a blocked invoice is blocked: price_variance or quantity_variance; null otherwise."),
    ]
    static let invoice = object(invoiceProperties, required: Array(invoiceProperties.keys).sorted())

    static let stock = object(
        [
            "material_id": typed("string", "Material number."), "description": typed("string", "Material description."),
            "unit": typed("string", "Unit of measure."), "plant": typed("string", "Plant code (see reference/plants)."),
            "storage_location": typed("string", "Storage location."), "unrestricted_quantity": typed("number", "Unrestricted stock."),
            "standard_price": typed("number", "Standard price per unit."), "currency": typed("string", "ISO 4217 currency code."),
        ],
        required: ["material_id", "description", "unit", "plant", "unrestricted_quantity", "standard_price", "currency"])

    static let costCenterItem = object(
        ["cost_center": typed("string", "Cost centre id."), "name": typed("string", "Name."), "responsible": typed("string", "Person responsible.")],
        required: ["cost_center", "name", "responsible"])

    /// `{"items": [...], "total": n, "next_cursor": string|null}`.
    static func page(_ item: JSONValue) -> JSONValue {
        object(
            [
                "items": array(item), "total": typed("integer", "Number of matches across all pages."),
                "next_cursor": nullableString("Pass as cursor to get the next page; null on the last page."),
            ], required: ["items", "total", "next_cursor"])
    }
}
