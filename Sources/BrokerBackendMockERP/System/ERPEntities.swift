// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// One stocked material/plant position (MARD row).
struct ERPStockRow {
    var material: Int
    var plant: Int
}

/// Native identifiers and JSON shapes of the partition's rows, plus their filterable properties.
extension ERPPartition {
    func supplierID(_ number: Int) -> String { ERPCalendar.pad(number, 10) }
    func materialID(_ number: Int) -> String { "MAT-" + ERPCalendar.pad(number, 6) }

    static func parseSupplierID(_ text: String) -> Int64? { text.count <= 10 ? Int64(text) : nil }
    static func parseMaterialID(_ text: String) -> Int64? { text.hasPrefix("MAT-") ? Int64(text.dropFirst(4)) : nil }
    static func parseDocument(_ text: String) -> Int64? { text.count == 10 ? Int64(text) : nil }
    static func parseDay(_ text: String) -> Int64? { ERPCalendar.parseNative(text).map(Int64.init) }
    static func parseAmount(_ text: String) -> Int64? { ERPDecimal.parseCents(text) }

    private static func metadata(_ set: String, _ key: String, _ type: String) -> JSONValue {
        ["uri": .string("\(set)('\(key)')"), "type": .string("MM_PUR_SRV.\(type)")]
    }

    // MARK: Suppliers (LFA1)

    func nativeSupplier(_ s: ERPSupplier) -> JSONValue {
        let id = supplierID(s.number)
        return [
            "__metadata": Self.metadata("A_Supplier", id, "A_SupplierType"), "LIFNR": .string(id), "NAME1": .string(s.name),
            "LAND1": .string(s.country), "ORT01": .string(s.city), "SPERR": s.blocked ? "X" : "", "ZTERM": .string("NT\(s.paymentDays)"),
        ]
    }

    var supplierFields: [String: ERPField<ERPSupplier>] {
        [
            "LIFNR": .number({ Int64($0.number) }, parse: Self.parseSupplierID), "NAME1": .text(\.name), "LAND1": .text(\.country),
            "ORT01": .text(\.city), "SPERR": .text({ $0.blocked ? "X" : "" }), "ZTERM": .text({ "NT\($0.paymentDays)" }),
        ]
    }

    // MARK: Cost centres (CSKS)

    func nativeCostCenter(_ c: ERPCostCenter) -> JSONValue {
        [
            "__metadata": Self.metadata("A_CostCenter", c.id, "A_CostCenterType"), "KOKRS": "1000", "KOSTL": .string(c.id),
            "KTEXT": .string(c.name), "VERAK": .string(c.responsible),
        ]
    }

    static var costCenterFields: [String: ERPField<ERPCostCenter>] { ["KOSTL": .text(\.id), "KTEXT": .text(\.name), "VERAK": .text(\.responsible)] }

    // MARK: Stock (MARA + MARD)

    var stockRows: [ERPStockRow] {
        var rows: [ERPStockRow] = []
        rows.reserveCapacity(materials.count * 2)
        for (m, material) in materials.enumerated() {
            for (plant, level) in material.stock.enumerated() where level >= 0 { rows.append(ERPStockRow(material: m, plant: plant)) }
        }
        return rows
    }

    func nativeStock(_ r: ERPStockRow) -> JSONValue {
        let m = materials[r.material]
        return [
            "MATNR": .string(materialID(m.number)), "MAKTX": .string(m.description), "MEINS": .string(m.unit),
            "WERKS": .string(ERPCatalog.plants[r.plant].code), "LGORT": .string(ERPCatalog.storageLocation),
            "LABST": .string(ERPDecimal.quantity(m.stock[r.plant])), "STPRS": .string(ERPDecimal.amount(m.priceCents)),
            "WAERS": .string(currency),
        ]
    }

    var stockFields: [String: ERPField<ERPStockRow>] {
        [
            "MATNR": .number({ Int64(materials[$0.material].number) }, parse: Self.parseMaterialID),
            "MAKTX": .text({ materials[$0.material].description }), "WERKS": .text({ ERPCatalog.plants[$0.plant].code }),
            "LABST": .number({ Int64(materials[$0.material].stock[$0.plant]) }, parse: { ERPDecimal.parseQuantity($0).map(Int64.init) }),
        ]
    }

    // MARK: Purchase orders (EKKO + EKPO)

    func nativeOrder(_ o: ERPOrder, items: Bool) -> JSONValue {
        let id = String(o.number)
        let supplier = suppliers[Int(o.supplier)]
        var e: [String: JSONValue] = [
            "__metadata": Self.metadata("A_PurchaseOrder", id, "A_PurchaseOrderType"), "EBELN": .string(id),
            "LIFNR": .string(supplierID(supplier.number)), "NAME1": .string(supplier.name), "BEDAT": .string(ERPCalendar.native(o.day)),
            "WAERS": .string(currency), "KOSTL": .string(costCenters[Int(o.costCenter)].id), "ERNAM": .string(o.createdBy),
            "PROCSTAT": .string(o.status.code), "NETWR": .string(ERPDecimal.amount(o.totalCents)), "ZZ_ITEM_COUNT": .string(String(o.lineCount)),
        ]
        if items {
            let rows: [JSONValue] = lines(of: o).enumerated().map { n, l in
                let m = materials[Int(l.material)]
                return [
                    "EBELN": .string(id), "EBELP": .string(ERPCalendar.pad((n + 1) * 10, 5)), "MATNR": .string(materialID(m.number)),
                    "TXZ01": .string(m.description), "MENGE": .string(ERPDecimal.quantity(l.quantity)), "MEINS": .string(m.unit),
                    "NETPR": .string(ERPDecimal.amount(l.priceCents)), "WEMNG": .string(ERPDecimal.quantity(l.received)),
                    "NETWR": .string(ERPDecimal.amount(Int64(l.quantity) * l.priceCents)),
                ]
            }
            e["to_Item"] = ["results": .array(rows)]
        }
        return .object(e)
    }

    var orderFields: [String: ERPField<ERPOrder>] {
        [
            "EBELN": .number({ Int64($0.number) }, parse: Self.parseDocument),
            "LIFNR": .number({ Int64(suppliers[Int($0.supplier)].number) }, parse: Self.parseSupplierID),
            "BEDAT": .number({ Int64($0.day) }, parse: Self.parseDay), "PROCSTAT": .text({ $0.status.code }),
            "KOSTL": .text({ costCenters[Int($0.costCenter)].id }), "ERNAM": .text(\.createdBy),
            "NETWR": .number(\.totalCents, parse: Self.parseAmount),
        ]
    }

    // MARK: Supplier invoices (RBKP)

    func nativeInvoice(_ i: ERPInvoice) -> JSONValue {
        let id = String(i.number)
        let order = orders[Int(i.order)]
        let supplier = suppliers[Int(order.supplier)]
        return [
            "__metadata": Self.metadata("A_SupplierInvoice", id, "A_SupplierInvoiceType"), "BELNR": .string(id),
            "GJAHR": .string(String(ERPCalendar.civil(i.day).year)), "EBELN": .string(String(order.number)),
            "LIFNR": .string(supplierID(supplier.number)), "NAME1": .string(supplier.name), "BLDAT": .string(ERPCalendar.native(i.day)),
            "RMWWR": .string(ERPDecimal.amount(i.amountCents)), "WAERS": .string(currency), "RBSTAT": .string(i.status.code),
            "SPGRP": i.blockReason == .price ? "X" : "", "SPGRM": i.blockReason == .quantity ? "X" : "",
            "KOSTL": .string(costCenters[Int(order.costCenter)].id),
        ]
    }

    var invoiceFields: [String: ERPField<ERPInvoice>] {
        [
            "BELNR": .number({ Int64($0.number) }, parse: Self.parseDocument),
            "EBELN": .number({ Int64(orders[Int($0.order)].number) }, parse: Self.parseDocument),
            "LIFNR": .number({ Int64(suppliers[Int(orders[Int($0.order)].supplier)].number) }, parse: Self.parseSupplierID),
            "BLDAT": .number({ Int64($0.day) }, parse: Self.parseDay), "RBSTAT": .text({ $0.status.code }),
            "RMWWR": .number(\.amountCents, parse: Self.parseAmount),
            "KOSTL": .text({ costCenters[Int(orders[Int($0.order)].costCenter)].id }),
        ]
    }
}
