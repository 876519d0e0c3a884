// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// The read tools.
extension MockERPBackend {
    struct Page {
        var items: [JSONValue]
        var total: Int
        var next: String?

        var json: JSONValue { ["items": .array(items), "total": .int(total), "next_cursor": .string(next)] }

        /// "12 of 345 purchase orders" plus a hint when more pages exist.
        func heading(_ noun: String) -> String {
            "\(items.count) of \(total) \(noun)" + (next == nil ? "." : " (more: pass next_cursor).")
        }
    }

    /// Runs one page of a search: decodes the cursor, asks the ERP for `$top`/`$skip` with `$inlinecount`,
    /// normalizes the rows and issues the next cursor.
    func searchPage(
        tool: String, set: String, filter: [JSONValue], orderBy: String?, _ arguments: [String: JSONValue], _ context: CallContext,
        normalize: (JSONValue) -> JSONValue
    ) async throws(BrokerError) -> Page {
        let pageSize = Int(arguments["page_size"]?.intValue ?? 25)
        var filters = arguments
        filters["page_size"] = nil
        filters["cursor"] = nil
        let fingerprint = ERPCursor.fingerprint(tool: tool, filters: filters)
        let offset = try ERPCursor.offset(arguments["cursor"]?.stringValue, backend: name, context: context, fingerprint: fingerprint)
        var query: [String: JSONValue] = ["$top": .int(pageSize), "$skip": .int(offset), "$inlinecount": "allpages"]
        if !filter.isEmpty { query["$filter"] = .array(filter) }
        if let orderBy { query["$orderby"] = .string(orderBy) }
        let d = try await send(.get, "/\(set)", query: query, context: context)
        let rows = d["results"]?.arrayValue ?? []
        let total = d["__count"]?.stringValue.flatMap { Int($0) } ?? rows.count
        let end = offset + rows.count
        let next = !rows.isEmpty && end < total ? ERPCursor.encode(backend: name, context: context, offset: end, fingerprint: fingerprint) : nil
        return Page(items: rows.map(normalize), total: total, next: next)
    }

    static func dateRange(_ arguments: [String: JSONValue], property: String) throws(BrokerError) -> [JSONValue] {
        let from = arguments["from_date"]?.stringValue, to = arguments["to_date"]?.stringValue
        if let from, let to, from > to { throw BrokerError.invalidArguments("from_date (\(from)) must not be after to_date (\(to)).") }
        var out: [JSONValue] = []
        if let from { out.append(condition(property, "ge", .string(ERPNormalizer.nativeDate(from)))) }
        if let to { out.append(condition(property, "le", .string(ERPNormalizer.nativeDate(to)))) }
        return out
    }

    // MARK: Suppliers

    func searchSuppliers(_ a: [String: JSONValue], _ context: CallContext) async throws(BrokerError) -> ToolOutput {
        var filter: [JSONValue] = []
        if let q = a["query"]?.stringValue { filter.append(Self.condition("NAME1", "substringof", .string(q))) }
        if let c = a["country"]?.stringValue { filter.append(Self.condition("LAND1", "eq", .string(c))) }
        if let s = a["status"]?.stringValue { filter.append(Self.condition("SPERR", "eq", s == "blocked" ? "X" : "")) }
        let page = try await searchPage(tool: "search_suppliers", set: "A_Supplier", filter: filter, orderBy: nil, a, context) {
            .object(ERPNormalizer.supplier($0))
        }
        let rows = page.items.map { s in
            "\(ERPNormalizer.text(s, "supplier_id")) | \(ERPNormalizer.text(s, "name")) | \(ERPNormalizer.text(s, "country")) \(ERPNormalizer.text(s, "city")) | \(ERPNormalizer.text(s, "status"))"
        }
        return ToolOutput(structured: page.json, text: ([page.heading("suppliers")] + rows).joined(separator: "\n"))
    }

    /// The normalized supplier with its open-order figures.
    func supplierDetail(_ id: String, _ context: CallContext) async throws(BrokerError) -> JSONValue {
        let key = ERPNormalizer.supplierKey(id)
        var supplier = ERPNormalizer.supplier(try await send(.get, "/A_Supplier('\(key)')", context: context))
        let open = try await send(.get, "/GetSupplierOpenItems", query: ["LIFNR": .string(key)], context: context)
        supplier["open_order_count"] = .int(Int(open["OPEN_PO_COUNT"]?.intValue ?? 0))
        supplier["open_amount"] = ERPNormalizer.amount(ERPNormalizer.text(open, "OPEN_NETWR"))
        supplier["currency"] = .string(ERPNormalizer.text(open, "WAERS"))
        supplier["oldest_open_order_date"] = ERPNormalizer.date(ERPNormalizer.text(open, "OLDEST_BEDAT"))
        return .object(supplier)
    }

    func getSupplier(_ a: [String: JSONValue], _ context: CallContext) async throws(BrokerError) -> ToolOutput {
        let s = try await supplierDetail(a["supplier_id"]?.stringValue ?? "", context)
        let text =
            "Supplier \(ERPNormalizer.text(s, "supplier_id")) \(ERPNormalizer.text(s, "name")) (\(ERPNormalizer.text(s, "country")), \(ERPNormalizer.text(s, "status"))): "
            + "\(s["open_order_count"]?.intValue ?? 0) open orders, \(ERPNormalizer.money(s["open_amount"], ERPNormalizer.text(s, "currency"))) still to be delivered."
        return ToolOutput(structured: s, text: text)
    }

    // MARK: Purchase orders

    static func orderLine(_ o: JSONValue) -> String {
        let date = o["order_date"]?.stringValue ?? "-"
        return "\(ERPNormalizer.text(o, "po_number")) | \(date) | \(ERPNormalizer.text(o, "supplier_name")) | \(ERPNormalizer.text(o, "status")) | "
            + ERPNormalizer.money(o["total_amount"], ERPNormalizer.text(o, "currency"))
    }

    func searchPurchaseOrders(_ a: [String: JSONValue], _ context: CallContext) async throws(BrokerError) -> ToolOutput {
        var filter = try Self.dateRange(a, property: "BEDAT")
        if let s = a["supplier_id"]?.stringValue { filter.append(Self.condition("LIFNR", "eq", .string(ERPNormalizer.supplierKey(s)))) }
        if let status = a["status"]?.stringValue {
            if status == "open" {
                filter.append(Self.condition("PROCSTAT", "in", ["05", "06"]))
            } else if let code = ERPNormalizer.orderStatusCode(status) {
                filter.append(Self.condition("PROCSTAT", "eq", .string(code)))
            }
        }
        if let c = a["cost_center"]?.stringValue { filter.append(Self.condition("KOSTL", "eq", .string(c))) }
        if let m = a["min_total"]?.doubleValue {
            guard let text = ERPNormalizer.decimalText(m) else {
                throw BrokerError.invalidArguments("min_total must be between 0 and \(ERPNormalizer.maxAmount.plainText), the largest amount the ERP holds.")
            }
            filter.append(Self.condition("NETWR", "ge", .string(text)))
        }
        let page = try await searchPage(tool: "search_purchase_orders", set: "A_PurchaseOrder", filter: filter, orderBy: "EBELN desc", a, context) {
            .object(ERPNormalizer.orderHeader($0))
        }
        return ToolOutput(structured: page.json, text: ([page.heading("purchase orders")] + page.items.map(Self.orderLine)).joined(separator: "\n"))
    }

    func purchaseOrder(_ number: String, _ context: CallContext) async throws(BrokerError) -> JSONValue {
        ERPNormalizer.order(try await send(.get, "/A_PurchaseOrder('\(number)')", query: ["$expand": "to_Item"], context: context))
    }

    static func orderText(_ o: JSONValue, verb: String = "Purchase order") -> String {
        let lines = o["lines"]?.arrayValue ?? []
        let body = lines.map { l in
            "  \(l["line_number"]?.intValue ?? 0): \(ERPNormalizer.text(l, "material_id")) \(ERPNormalizer.text(l, "description")) | "
                + "\(ERPNormalizer.plain(l["quantity"])) \(ERPNormalizer.text(l, "unit")) @ \(ERPNormalizer.plain(l["unit_price"])) | received \(ERPNormalizer.plain(l["received_quantity"]))"
        }
        return (["\(verb) " + orderLine(o) + " | cost centre \(ERPNormalizer.text(o, "cost_center"))"] + body).joined(separator: "\n")
    }

    func getPurchaseOrder(_ a: [String: JSONValue], _ context: CallContext) async throws(BrokerError) -> ToolOutput {
        let o = try await purchaseOrder(a["po_number"]?.stringValue ?? "", context)
        return ToolOutput(structured: o, text: Self.orderText(o))
    }

    // MARK: Invoices

    static func invoiceLine(_ i: JSONValue) -> String {
        let reason = i["block_reason"]?.stringValue.map { " (\($0))" } ?? ""
        return "\(ERPNormalizer.text(i, "invoice_id")) | \(i["invoice_date"]?.stringValue ?? "-") | PO \(ERPNormalizer.text(i, "po_number")) | "
            + "\(ERPNormalizer.text(i, "supplier_name")) | \(ERPNormalizer.text(i, "status"))\(reason) | "
            + ERPNormalizer.money(i["gross_amount"], ERPNormalizer.text(i, "currency"))
    }

    func searchInvoices(_ a: [String: JSONValue], _ context: CallContext) async throws(BrokerError) -> ToolOutput {
        var filter = try Self.dateRange(a, property: "BLDAT")
        if let s = a["status"]?.stringValue, let code = ERPNormalizer.invoiceStatusCode(s) { filter.append(Self.condition("RBSTAT", "eq", .string(code))) }
        if let s = a["supplier_id"]?.stringValue { filter.append(Self.condition("LIFNR", "eq", .string(ERPNormalizer.supplierKey(s)))) }
        if let p = a["po_number"]?.stringValue { filter.append(Self.condition("EBELN", "eq", .string(p))) }
        if let c = a["cost_center"]?.stringValue { filter.append(Self.condition("KOSTL", "eq", .string(c))) }
        let page = try await searchPage(tool: "search_invoices", set: "A_SupplierInvoice", filter: filter, orderBy: "BELNR desc", a, context) {
            .object(ERPNormalizer.invoice($0))
        }
        return ToolOutput(structured: page.json, text: ([page.heading("invoices")] + page.items.map(Self.invoiceLine)).joined(separator: "\n"))
    }

    func invoiceDetail(_ id: String, _ context: CallContext) async throws(BrokerError) -> JSONValue {
        var invoice = ERPNormalizer.invoice(try await send(.get, "/A_SupplierInvoice('\(id)')", context: context))
        let po = invoice["po_number"]?.stringValue ?? ""
        invoice["purchase_order"] = .object(ERPNormalizer.orderHeader(try await send(.get, "/A_PurchaseOrder('\(po)')", context: context)))
        return .object(invoice)
    }

    func getInvoice(_ a: [String: JSONValue], _ context: CallContext) async throws(BrokerError) -> ToolOutput {
        let i = try await invoiceDetail(a["invoice_id"]?.stringValue ?? "", context)
        let po = i["purchase_order"] ?? .null
        let text = "Invoice " + Self.invoiceLine(i) + "\nFor purchase order " + Self.orderLine(po)
        return ToolOutput(structured: i, text: text)
    }

    // MARK: Inventory and cost centres

    func checkInventory(_ a: [String: JSONValue], _ context: CallContext) async throws(BrokerError) -> ToolOutput {
        var filter: [JSONValue] = []
        if let m = a["material_id"]?.stringValue { filter.append(Self.condition("MATNR", "eq", .string(m))) }
        if let p = a["plant"]?.stringValue { filter.append(Self.condition("WERKS", "eq", .string(p))) }
        if let q = a["query"]?.stringValue { filter.append(Self.condition("MAKTX", "substringof", .string(q))) }
        if let b = a["below_quantity"]?.intValue { filter.append(Self.condition("LABST", "lt", .string(String(b)))) }
        let page = try await searchPage(tool: "check_inventory", set: "A_MaterialStock", filter: filter, orderBy: nil, a, context) { ERPNormalizer.stock($0) }
        let rows = page.items.map { s in
            "\(ERPNormalizer.text(s, "material_id")) | \(ERPNormalizer.text(s, "description")) | plant \(ERPNormalizer.text(s, "plant")) | "
                + "\(ERPNormalizer.plain(s["unrestricted_quantity"])) \(ERPNormalizer.text(s, "unit"))"
        }
        return ToolOutput(structured: page.json, text: ([page.heading("stock positions")] + rows).joined(separator: "\n"))
    }

    func costCenterList(query: String?, _ context: CallContext) async throws(BrokerError) -> [JSONValue] {
        var q: [String: JSONValue] = ["$top": .int(ERPQuery.maxTop)]
        if let query { q["$filter"] = [Self.condition("KTEXT", "substringof", .string(query))] }
        let d = try await send(.get, "/A_CostCenter", query: q, context: context)
        return (d["results"]?.arrayValue ?? []).map(ERPNormalizer.costCenter)
    }

    func listCostCenters(_ a: [String: JSONValue], _ context: CallContext) async throws(BrokerError) -> ToolOutput {
        let items = try await costCenterList(query: a["query"]?.stringValue, context)
        let rows = items.map { "\(ERPNormalizer.text($0, "cost_center")) | \(ERPNormalizer.text($0, "name")) | \(ERPNormalizer.text($0, "responsible"))" }
        return ToolOutput(structured: ["items": .array(items), "total": .int(items.count)], text: (["\(items.count) cost centres."] + rows).joined(separator: "\n"))
    }
}
