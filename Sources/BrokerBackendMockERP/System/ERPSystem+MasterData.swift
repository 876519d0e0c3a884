// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// Suppliers, cost centres and material stock.
extension ERPSystem {
    func listSuppliers(_ request: ERPRequest, _ p: ERPPartition) throws(ERPReject) -> ERPResponse {
        try ERPQuery.collection(
            request, set: "A_Supplier", key: "LIFNR", count: p.suppliers.count, row: { p.suppliers[$0] }, fields: p.supplierFields,
            render: p.nativeSupplier)
    }

    /// The supplier with vendor number `id` (leading zeros optional, as with SAP's ALPHA conversion).
    func supplierIndex(_ id: String, _ p: ERPPartition) -> Int? {
        ERPPartition.parseSupplierID(id).flatMap { p.supplierIndex(Int($0)) }
    }

    func supplier(_ id: String, _ p: ERPPartition) throws(ERPReject) -> ERPResponse {
        guard let i = supplierIndex(id, p) else { throw Self.vendorNotFound(id) }
        return .entity(p.nativeSupplier(p.suppliers[i]))
    }

    static func vendorNotFound(_ id: String, status: Int = 404) -> ERPReject {
        ERPReject(status, ERPCode.vendorNotFound, "Vendor \(id.prefix(20)) does not exist", inner: ["target": "LIFNR", "key": .string(String(id.prefix(20)))])
    }

    /// Function import: open purchase orders (released or partially received) of one vendor and the value
    /// still to be delivered on them.
    func supplierOpenItems(_ request: ERPRequest, _ p: ERPPartition) throws(ERPReject) -> ERPResponse {
        guard let id = request.query["LIFNR"]?.stringValue else {
            throw ERPReject(400, ERPCode.badRequest, "Parameter LIFNR is required")
        }
        guard let s = supplierIndex(id, p) else { throw Self.vendorNotFound(id) }
        var count = 0
        var outstanding: Int64 = 0
        var oldest: Int32?
        for o in p.orders where Int(o.supplier) == s && (o.status == .released || o.status == .partiallyReceived) {
            count += 1
            outstanding += p.outstandingCents(of: o)
            oldest = min(oldest ?? o.day, o.day)
        }
        return .entity([
            "LIFNR": .string(p.supplierID(p.suppliers[s].number)), "OPEN_PO_COUNT": .int(count),
            "OPEN_NETWR": .string(ERPDecimal.amount(outstanding)), "WAERS": .string(p.currency),
            "OLDEST_BEDAT": oldest.map { .string(ERPCalendar.native($0)) } ?? "",
        ])
    }

    func listCostCenters(_ request: ERPRequest, _ p: ERPPartition) throws(ERPReject) -> ERPResponse {
        try ERPQuery.collection(
            request, set: "A_CostCenter", key: "KOSTL", count: p.costCenters.count, row: { p.costCenters[$0] },
            fields: ERPPartition.costCenterFields, render: p.nativeCostCenter)
    }

    func listStock(_ request: ERPRequest, _ p: ERPPartition) throws(ERPReject) -> ERPResponse {
        let rows = p.stockRows
        return try ERPQuery.collection(
            request, set: "A_MaterialStock", key: "MATNR", count: rows.count, row: { rows[$0] }, fields: p.stockFields,
            render: p.nativeStock)
    }
}
