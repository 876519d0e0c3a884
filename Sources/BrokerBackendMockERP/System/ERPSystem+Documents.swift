// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// Purchase orders and supplier invoices: queries, order creation and invoice release.
extension ERPSystem {
    func listOrders(_ request: ERPRequest, _ p: ERPPartition) throws(ERPReject) -> ERPResponse {
        try ERPQuery.collection(
            request, set: "A_PurchaseOrder", key: "EBELN", count: p.orders.count, row: { p.orders[$0] }, fields: p.orderFields,
            render: { p.nativeOrder($0, items: false) })
    }

    func order(_ id: String, _ request: ERPRequest, _ p: ERPPartition) throws(ERPReject) -> ERPResponse {
        guard let n = ERPPartition.parseDocument(id), let i = p.orderIndex(Int(n)) else {
            throw ERPReject(404, ERPCode.orderNotFound, "Purchase order \(id.prefix(20)) does not exist", inner: ["key": .string(String(id.prefix(20)))])
        }
        let expand = request.query["$expand"]?.stringValue?.split(separator: ",").contains("to_Item") ?? false
        return .entity(p.nativeOrder(p.orders[i], items: expand))
    }

    /// Deep insert of a purchase order with its items; new orders await approval.
    func createOrder(_ request: ERPRequest, _ p: inout ERPPartition) throws(ERPReject) -> ERPResponse {
        guard let body = request.body, let vendor = body["LIFNR"]?.stringValue, let costCenter = body["KOSTL"]?.stringValue,
            let items = body["to_Item"]?.arrayValue, (1...99).contains(items.count)
        else { throw ERPReject(400, ERPCode.badRequest, "Payload must contain LIFNR, KOSTL and 1 to 99 entries in to_Item") }
        guard let s = supplierIndex(vendor, p) else { throw Self.vendorNotFound(vendor, status: 400) }
        if p.suppliers[s].blocked {
            throw ERPReject(409, ERPCode.vendorBlocked, "Vendor \(vendor) is blocked for purchasing", inner: ["target": "LIFNR", "key": .string(vendor)])
        }
        guard let c = p.costCenterIndex(costCenter) else {
            throw ERPReject(
                400, ERPCode.costCenterNotFound, "Cost center \(costCenter.prefix(20)) does not exist in controlling area 1000",
                inner: ["target": "KOSTL", "key": .string(String(costCenter.prefix(20)))])
        }
        var newLines: [ERPOrderLine] = []
        for (n, item) in items.enumerated() {
            let position = ERPCalendar.pad((n + 1) * 10, 5)
            let material = item["MATNR"]?.stringValue ?? ""
            guard let number = ERPPartition.parseMaterialID(material), let m = p.materialIndex(Int(number)) else {
                throw ERPReject(
                    400, ERPCode.materialNotFound, "Material \(material.prefix(20)) does not exist",
                    inner: ["target": "MATNR", "key": .string(String(material.prefix(20))), "item": .string(position)])
            }
            guard let quantity = item["MENGE"]?.stringValue.flatMap(ERPDecimal.parseQuantity), quantity > 0 else {
                throw ERPReject(400, ERPCode.badRequest, "Item \(position): quantity must be a positive whole number", inner: ["target": "MENGE", "item": .string(position)])
            }
            var price = p.materials[m].priceCents
            if let raw = item["NETPR"]?.stringValue {
                guard let cents = ERPDecimal.parseCents(raw), cents > 0 else {
                    throw ERPReject(400, ERPCode.badRequest, "Item \(position): net price is invalid", inner: ["target": "NETPR", "item": .string(position)])
                }
                price = cents
            }
            newLines.append(ERPOrderLine(material: Int32(m), quantity: quantity, priceCents: price, received: 0))
        }
        var totalCents: Int64 = 0
        for line in newLines {
            let (lineCents, o1) = Int64(line.quantity).multipliedReportingOverflow(by: line.priceCents)
            let (sum, o2) = totalCents.addingReportingOverflow(lineCents)
            guard !o1, !o2, sum <= ERPCatalog.maxOrderCents else {
                throw ERPReject(400, ERPCode.orderValueTooLarge, "Order value exceeds the maximum of \(ERPDecimal.amount(ERPCatalog.maxOrderCents))", inner: ["target": "NETWR"])
            }
            totalCents = sum
        }
        let order = ERPOrder(
            number: p.orderBase + p.orders.count, supplier: Int32(s), day: ERPCatalog.businessDay, costCenter: Int32(c), createdBy: settings.user,
            status: .awaitingApproval, lineStart: Int32(p.lines.count), lineCount: Int32(newLines.count),
            totalCents: totalCents)
        p.lines.append(contentsOf: newLines)
        p.orders.append(order)
        return .entity(p.nativeOrder(order, items: true), status: 201)
    }

    func listInvoices(_ request: ERPRequest, _ p: ERPPartition) throws(ERPReject) -> ERPResponse {
        try ERPQuery.collection(
            request, set: "A_SupplierInvoice", key: "BELNR", count: p.invoices.count, row: { p.invoices[$0] }, fields: p.invoiceFields,
            render: p.nativeInvoice)
    }

    private static func invoiceNotFound(_ id: String) -> ERPReject {
        ERPReject(404, ERPCode.invoiceNotFound, "Document \(id.prefix(20)) does not exist", inner: ["key": .string(String(id.prefix(20)))])
    }

    func invoice(_ id: String, _ p: ERPPartition) throws(ERPReject) -> ERPResponse {
        guard let n = ERPPartition.parseDocument(id), let i = p.invoiceIndex(Int(n)) else { throw Self.invoiceNotFound(id) }
        return .entity(p.nativeInvoice(p.invoices[i]))
    }

    /// Function import: releases a parked or blocked invoice for payment.
    func releaseInvoice(_ request: ERPRequest, _ p: inout ERPPartition) throws(ERPReject) -> ERPResponse {
        guard let id = request.body?["BELNR"]?.stringValue else { throw ERPReject(400, ERPCode.badRequest, "Parameter BELNR is required") }
        guard let n = ERPPartition.parseDocument(id), let i = p.invoiceIndex(Int(n)) else { throw Self.invoiceNotFound(id) }
        let status = p.invoices[i].status
        guard status == .parked || status == .blocked else {
            throw ERPReject(
                409, ERPCode.invoiceNotReleasable, "Document \(id) has status \(status.code); release not possible",
                inner: ["key": .string(id), "RBSTAT": .string(status.code)])
        }
        p.invoices[i].status = .approved
        p.invoices[i].blockReason = .none
        return .entity(p.nativeInvoice(p.invoices[i]))
    }
}
