// SPDX-License-Identifier: Apache-2.0

import SimulationKit

/// Civil dates as day numbers (days since 1970-01-01), so generation and date filters avoid Foundation calendars.
enum ERPCalendar {
    /// The day number of a civil date (proleptic Gregorian; Howard Hinnant's algorithm).
    static func day(year: Int, month: Int, day: Int) -> Int32 {
        CivilDate.dayNumber(year: year, month: month, day: day)
    }

    /// The civil date of a day number.
    static func civil(_ dayNumber: Int32) -> (year: Int, month: Int, day: Int) {
        CivilDate.civil(dayNumber)
    }

    /// `yyyyMMdd`, the ERP's date format.
    static func native(_ dayNumber: Int32) -> String {
        let c = civil(dayNumber)
        return pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2)
    }

    /// Parses `yyyyMMdd`; `nil` for anything that is not a real date.
    static func parseNative(_ text: String) -> Int32? {
        let u = Array(text.utf8)
        guard u.count == 8, u.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        func num(_ r: Range<Int>) -> Int { u[r].reduce(0) { $0 * 10 + Int($1 - 0x30) } }
        let y = num(0..<4), m = num(4..<6), d = num(6..<8)
        guard (1...12).contains(m), (1...31).contains(d) else { return nil }
        let n = day(year: y, month: m, day: d)
        let back = civil(n)
        return back.month == m && back.day == d ? n : nil
    }

    /// Zero-padded decimal.
    static func pad(_ value: Int, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

/// Edm.Decimal values travel as strings on an OData v2 wire ("1234.50").
enum ERPDecimal {
    /// Cents as a two-decimal string.
    static func amount(_ cents: Int64) -> String {
        let sign = cents < 0 ? "-" : ""
        let a = cents.magnitude
        return "\(sign)\(a / 100)." + ERPCalendar.pad(Int(a % 100), 2)
    }

    /// A quantity with SAP's three decimals ("12.000").
    static func quantity(_ q: Int32) -> String { "\(q).000" }

    /// Parses a decimal string into cents (at most two decimals); `nil` when malformed.
    static func parseCents(_ text: String) -> Int64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Int64(parts[0]), whole >= 0 else { return nil }
        var cents: Int64 = 0
        if parts.count == 2 {
            let frac = parts[1]
            guard !frac.isEmpty, frac.count <= 2, let f = Int64(frac) else { return nil }
            cents = frac.count == 1 ? f * 10 : f
        }
        // The text comes from outside: whole * 100 + cents must not wrap or trap.
        let (scaled, o1) = whole.multipliedReportingOverflow(by: 100)
        let (total, o2) = scaled.addingReportingOverflow(cents)
        return o1 || o2 ? nil : total
    }

    /// Parses an integral quantity string ("12" or "12.000").
    static func parseQuantity(_ text: String) -> Int32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Int32(parts[0]) else { return nil }
        if parts.count == 2, !parts[1].allSatisfy({ $0 == "0" }) { return nil }
        return whole
    }
}
