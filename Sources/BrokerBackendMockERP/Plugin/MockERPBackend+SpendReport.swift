// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// The long-running tool: scans every order in a date range in chunks and reports progress.
extension MockERPBackend {
    static let spendChunk = 1000
    private static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
    ]

    private struct Group {
        var label: String
        var cents: Int64 = 0
        var orders = 0
    }

    func spendReport(_ a: [String: JSONValue], _ context: CallContext) async throws(BrokerError) -> ToolOutput {
        let from = a["from_date"]?.stringValue ?? "", to = a["to_date"]?.stringValue ?? ""
        let groupBy = a["group_by"]?.stringValue ?? "supplier"
        let top = Int(a["top"]?.intValue ?? 10)
        let filter = try Self.dateRange(a, property: "BEDAT") + [Self.condition("PROCSTAT", "ne", "08")]
        var costCenterNames: [String: String] = [:]
        if groupBy == "cost_center" {
            for c in try await costCenterList(query: nil, context) {
                costCenterNames[ERPNormalizer.text(c, "cost_center")] = ERPNormalizer.text(c, "name")
            }
        }
        var groups: [String: Group] = [:]
        var totalCents: Int64 = 0
        var currency = ""
        var done = 0
        var total = 0
        repeat {
            let query: [String: JSONValue] = [
                "$top": .int(Self.spendChunk), "$skip": .int(done), "$inlinecount": "allpages", "$filter": .array(filter), "$orderby": "EBELN asc",
            ]
            let d = try await send(.get, "/A_PurchaseOrder", query: query, context: context)
            // The total is fixed by the first chunk; orders created meanwhile are appended after it and left out.
            if done == 0 { total = d["__count"]?.stringValue.flatMap { Int($0) } ?? 0 }
            let rows = (d["results"]?.arrayValue ?? []).prefix(max(0, total - done))
            if rows.isEmpty { break }
            for row in rows {
                let cents = ERPNormalizer.cents(ERPNormalizer.text(row, "NETWR")) ?? 0
                currency = ERPNormalizer.text(row, "WAERS")
                let (key, label) = groupKey(row, groupBy: groupBy, costCenterNames: costCenterNames)
                var group = groups[key] ?? Group(label: label)
                // Sums of outside amounts use overflow-reporting arithmetic: a wrap would be a wrong report, a trap a
                // dead broker.
                let (groupSum, groupOverflow) = group.cents.addingReportingOverflow(cents)
                let (sum, overflow) = totalCents.addingReportingOverflow(cents)
                guard !groupOverflow, !overflow else { throw Self.spendTooLarge(from, to) }
                group.cents = groupSum
                group.orders += 1
                groups[key] = group
                totalCents = sum
            }
            done += rows.count
            try context.checkAlive()
            await context.notifier.progress(Double(done), total: Double(total), message: "Scanned \(done) of \(total) purchase orders")
            await Task.yield()
        } while done < total
        await context.notifier.log(
            .info, logger: name,
            ["message": .string("Spend report \(from)..\(to) by \(groupBy): scanned \(done) purchase orders in chunks of \(Self.spendChunk).")])
        var ordered = groups.sorted { $0.value.cents != $1.value.cents ? $0.value.cents > $1.value.cents : $0.key < $1.key }
        if groupBy == "month" { ordered.sort { $0.key < $1.key } } else { ordered = Array(ordered.prefix(top)) }
        let groupJSON: [JSONValue] = ordered.map { key, g in
            ["key": .string(key), "label": .string(g.label), "amount": .double(Double(g.cents) / 100), "order_count": .int(g.orders)]
        }
        let result: JSONValue = [
            "from_date": .string(from), "to_date": .string(to), "group_by": .string(groupBy), "currency": .string(currency),
            "total_amount": .double(Double(totalCents) / 100), "order_count": .int(done), "groups": .array(groupJSON),
        ]
        let lines = ordered.enumerated().map { i, entry in
            "\(i + 1). \(entry.value.label) (\(entry.key)) | \(ERPNormalizer.money(.double(Double(entry.value.cents) / 100), currency)) | \(entry.value.orders) orders"
        }
        let heading = "Spend \(from)..\(to) by \(groupBy): \(ERPNormalizer.money(.double(Double(totalCents) / 100), currency)) over \(done) orders."
        return ToolOutput(structured: result, text: ([heading] + lines).joined(separator: "\n"))
    }

    private static func spendTooLarge(_ from: String, _ to: String) -> BrokerError {
        BrokerError.invalidArguments("The spend between \(from.prefix(10)) and \(to.prefix(10)) is too large to total exactly; run the report over a shorter date range.")
    }

    private func groupKey(_ row: JSONValue, groupBy: String, costCenterNames: [String: String]) -> (String, String) {
        switch groupBy {
        case "cost_center":
            let id = ERPNormalizer.text(row, "KOSTL")
            return (id, costCenterNames[id] ?? id)
        case "month":
            let date = ERPNormalizer.text(row, "BEDAT")
            let year = String(date.prefix(4)), month = Int(date.dropFirst(4).prefix(2)) ?? 1
            let name = Self.monthNames[min(max(month, 1), 12) - 1]
            return ("\(year)-\(ERPCalendar.pad(month, 2))", "\(name) \(year)")
        default:
            return (ERPNormalizer.text(row, "LIFNR"), ERPNormalizer.text(row, "NAME1"))
        }
    }
}
