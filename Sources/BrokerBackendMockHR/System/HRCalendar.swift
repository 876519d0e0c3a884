// SPDX-License-Identifier: Apache-2.0

import SimulationKit

/// Calendar arithmetic on day numbers (days since 1970-01-01, proleptic Gregorian).
///
/// The HR system works in whole days with a fixed "today" so that balances, tenure and generated requests are
/// identical on every run; Foundation's calendar machinery is slow in debug builds and not needed for this.
enum HRCalendar {
    /// The system's fixed "today": 2026-06-30.
    static let referenceDay: Int32 = day(year: 2026, month: 6, day: 30)
    /// First day of the reference year (accruals are year-to-date).
    static let yearStartDay: Int32 = day(year: 2026, month: 1, day: 1)

    /// The day number of a civil date (Howard Hinnant's days_from_civil).
    static func day(year: Int, month: Int, day: Int) -> Int32 {
        CivilDate.dayNumber(year: year, month: month, day: day)
    }

    /// The civil date of a day number.
    static func civil(_ dayNumber: Int32) -> (year: Int, month: Int, day: Int) {
        CivilDate.civil(dayNumber)
    }

    /// `yyyy-MM-dd`.
    static func format(_ dayNumber: Int32) -> String {
        let c = civil(dayNumber)
        return pad(c.year, 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2)
    }

    /// Parses a strict `yyyy-MM-dd`; `nil` for anything else, including impossible dates such as 2026-02-30.
    static func parse(_ text: String) -> Int32? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        let n = day(year: y, month: m, day: d)
        let back = civil(n)
        guard back.year == y, back.month == m, back.day == d else { return nil }
        return n
    }

    /// 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
    static func weekday(_ dayNumber: Int32) -> Int {
        let w = (Int(dayNumber) + 3) % 7
        return w < 0 ? w + 7 : w
    }

    /// Monday-to-Friday days in `start...end` (0 when `end < start`).
    static func businessDays(from start: Int32, to end: Int32) -> Int {
        guard end >= start else { return 0 }
        var count = 0
        var d = start
        while d <= end {
            if weekday(d) < 5 { count += 1 }
            d += 1
        }
        return count
    }

    /// The first Monday-to-Friday day on or after `dayNumber`.
    static func nextBusinessDay(onOrAfter dayNumber: Int32) -> Int32 {
        var d = dayNumber
        while weekday(d) >= 5 { d += 1 }
        return d
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
