// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// Turns the ERP's native rows (LIFNR, EBELN, PROCSTAT "05", "1234.50", "20250301") into the broker's documented
/// snake_case shapes (supplier_id, po_number, "released", 1234.5, "2025-03-01"). Nothing native leaks past it.
enum ERPNormalizer {
    /// Purchase order statuses: native code, normalized word, meaning.
    static let orderStatuses: [(code: String, status: String, meaning: String)] = [
        ("02", "awaiting_approval", "Created and waiting for a manager's approval; not yet sent to the supplier."),
        ("05", "released", "Approved and sent to the supplier; nothing received yet (open)."),
        ("06", "partially_received", "Some goods received; the rest is still open."),
        ("08", "rejected", "Rejected in approval; will not be ordered."),
        ("09", "closed", "Fully received and closed."),
    ]

    /// Invoice statuses: native code, normalized word, meaning.
    static let invoiceStatuses: [(code: String, status: String, meaning: String)] = [
        ("A", "parked", "Entered and awaiting approval before posting."),
        ("B", "blocked", "Blocked for payment because of a price or quantity variance against the purchase order."),
        ("C", "approved", "Approved for payment; will be paid in the next payment run."),
        ("D", "paid", "Paid."),
    ]

    /// Units of measure: native code → readable unit.
    static let units: [String: String] = ["ST": "piece", "KG": "kg", "M": "m", "L": "l", "PAK": "pack", "KAR": "carton", "ROL": "roll"]

    static func orderStatus(code: String) -> String { orderStatuses.first { $0.code == code }?.status ?? "unknown" }
    static func orderStatusCode(_ status: String) -> String? { orderStatuses.first { $0.status == status }?.code }
    static func invoiceStatus(code: String) -> String { invoiceStatuses.first { $0.code == code }?.status ?? "unknown" }
    static func invoiceStatusCode(_ status: String) -> String? { invoiceStatuses.first { $0.status == status }?.code }

    // MARK: Values

    static func text(_ row: JSONValue, _ key: String) -> String { row[key]?.stringValue ?? "" }

    /// `yyyyMMdd` → `yyyy-MM-dd`; `null` when empty or malformed.
    static func date(_ native: String) -> JSONValue {
        guard native.count == 8, native.allSatisfy(\.isNumber) else { return .null }
        let u = Array(native)
        return .string("\(String(u[0..<4]))-\(String(u[4..<6]))-\(String(u[6..<8]))")
    }

    /// `yyyy-MM-dd` → `yyyyMMdd`.
    static func nativeDate(_ iso: String) -> String { iso.filter { $0 != "-" } }

    /// A decimal string as a number rounded to two decimals.
    static func amount(_ native: String) -> JSONValue { .double(((Double(native) ?? 0) * 100).rounded() / 100) }

    /// A quantity string ("12.000") as a number: an integer when it is whole and fits, else the double.
    static func quantity(_ native: String) -> JSONValue {
        let d = Double(native) ?? 0
        guard d.isFinite else { return 0 }
        if let i = Int64(roundingChecked: d), Double(i) == d { return .int(i) }
        return .double(d)
    }

    /// The largest amount the ERP's decimal fields hold (DEC 15,2 in SAP): tool schemas cap amounts at it.
    static let maxAmount = 9_999_999_999_999.99

    /// A non-negative number argument as a native two-decimal string, or `nil` when the ERP cannot represent it.
    static func decimalText(_ value: Double) -> String? {
        guard value >= 0, value <= maxAmount, let cents = Int64(centsOf: value) else { return nil }
        return ERPDecimal.amount(cents)
    }

    static func unit(_ native: String) -> String { units[native] ?? native.lowercased() }

    /// Supplier ids are zero-padded to ten digits, as the ERP's ALPHA conversion does.
    static func supplierKey(_ id: String) -> String { String(repeating: "0", count: max(0, 10 - id.count)) + id }

    // MARK: Entities

    static func supplier(_ row: JSONValue) -> [String: JSONValue] {
        [
            "supplier_id": .string(text(row, "LIFNR")), "name": .string(text(row, "NAME1")), "country": .string(text(row, "LAND1")),
            "city": .string(text(row, "ORT01")), "status": .string(text(row, "SPERR") == "X" ? "blocked" : "active"),
            "payment_terms_days": .int(Int(text(row, "ZTERM").dropFirst(2)) ?? 0),
        ]
    }

    static func costCenter(_ row: JSONValue) -> JSONValue {
        ["cost_center": .string(text(row, "KOSTL")), "name": .string(text(row, "KTEXT")), "responsible": .string(text(row, "VERAK"))]
    }

    static func stock(_ row: JSONValue) -> JSONValue {
        [
            "material_id": .string(text(row, "MATNR")), "description": .string(text(row, "MAKTX")), "unit": .string(unit(text(row, "MEINS"))),
            "plant": .string(text(row, "WERKS")), "storage_location": .string(text(row, "LGORT")),
            "unrestricted_quantity": quantity(text(row, "LABST")), "standard_price": amount(text(row, "STPRS")),
            "currency": .string(text(row, "WAERS")),
        ]
    }

    static func orderHeader(_ row: JSONValue) -> [String: JSONValue] {
        [
            "po_number": .string(text(row, "EBELN")), "supplier_id": .string(text(row, "LIFNR")), "supplier_name": .string(text(row, "NAME1")),
            "order_date": date(text(row, "BEDAT")), "status": .string(orderStatus(code: text(row, "PROCSTAT"))),
            "currency": .string(text(row, "WAERS")), "cost_center": .string(text(row, "KOSTL")), "created_by": .string(text(row, "ERNAM")),
            "total_amount": amount(text(row, "NETWR")), "line_count": .int(Int(text(row, "ZZ_ITEM_COUNT")) ?? 0),
        ]
    }

    static func order(_ row: JSONValue) -> JSONValue {
        var o = orderHeader(row)
        let items = row["to_Item"]?["results"]?.arrayValue ?? []
        o["lines"] = .array(
            items.map { l in
                [
                    "line_number": .int(Int(text(l, "EBELP")) ?? 0), "material_id": .string(text(l, "MATNR")),
                    "description": .string(text(l, "TXZ01")), "quantity": quantity(text(l, "MENGE")), "unit": .string(unit(text(l, "MEINS"))),
                    "unit_price": amount(text(l, "NETPR")), "received_quantity": quantity(text(l, "WEMNG")),
                    "line_amount": amount(text(l, "NETWR")),
                ]
            })
        return .object(o)
    }

    static func invoice(_ row: JSONValue) -> [String: JSONValue] {
        let reason: JSONValue = text(row, "SPGRP") == "X" ? "price_variance" : text(row, "SPGRM") == "X" ? "quantity_variance" : .null
        return [
            "invoice_id": .string(text(row, "BELNR")), "fiscal_year": .int(Int(text(row, "GJAHR")) ?? 0), "po_number": .string(text(row, "EBELN")),
            "supplier_id": .string(text(row, "LIFNR")), "supplier_name": .string(text(row, "NAME1")), "cost_center": .string(text(row, "KOSTL")),
            "invoice_date": date(text(row, "BLDAT")), "gross_amount": amount(text(row, "RMWWR")), "currency": .string(text(row, "WAERS")),
            "status": .string(invoiceStatus(code: text(row, "RBSTAT"))), "block_reason": reason,
        ]
    }

    /// Formats an amount for text summaries ("12,345.60 EUR").
    static func money(_ value: JSONValue?, _ currency: String) -> String {
        // A document with an amount no Int64 of cents can hold is shown as the number it is, never a trap.
        let amount = value?.doubleValue ?? 0
        guard let cents = Int64(centsOf: amount), cents >= 0 else { return amount.plainText + " " + currency }
        var whole = String(cents / 100)
        var groups: [String] = []
        while whole.count > 3 {
            groups.insert(String(whole.suffix(3)), at: 0)
            whole = String(whole.dropLast(3))
        }
        groups.insert(whole, at: 0)
        return groups.joined(separator: ",") + "." + (cents % 100 < 10 ? "0" : "") + String(cents % 100) + " " + currency
    }
}

extension ERPNormalizer {
    /// A native decimal string as integer cents, for exact sums; `nil` when the text is no amount an Int64 can hold.
    static func cents(_ native: String) -> Int64? { Double(native).flatMap { Int64(centsOf: $0) } }

    /// A number for text summaries, without a trailing ".0" for whole values.
    static func plain(_ value: JSONValue?) -> String {
        guard let d = value?.doubleValue else { return "-" }
        return d.plainText
    }
}
