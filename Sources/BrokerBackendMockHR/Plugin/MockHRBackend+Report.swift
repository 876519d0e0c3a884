// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

extension MockHRBackend {
    /// Workers fetched per request while scanning.
    static let reportChunkSize = 500

    private struct Tally {
        var headcount = 0
        var active = 0
        var onLeave = 0
        var terminated = 0
        var tenureDays = 0
    }

    func headcountReport(_ args: [String: JSONValue], context: CallContext) async throws -> ToolOutput {
        let groupBy = args["group_by"]?.stringValue ?? "department"
        guard ["department", "location", "manager_level", "hire_year"].contains(groupBy) else {
            throw BrokerError.invalidArguments("group_by must be one of department, location, manager_level, hire_year.")
        }
        let includeTerminated = args["include_terminated"]?.boolValue ?? false
        await context.notifier.log(
            .info, logger: name, ["message": .string("Headcount report by \(groupBy): scanning all employees in chunks of \(Self.reportChunkSize).")])
        var tallies: [String: Tally] = [:]
        var counted = 0
        var offset = 0
        var total = 0
        repeat {
            let body = try await send(.get, "workers", query: ["limit": .int(Self.reportChunkSize), "offset": .int(offset)], context: context)
            let rows = try HRNormalizer.entries(body)
            total = try HRNormalizer.int(body, "Total")
            guard let asOf = HRCalendar.parse(try HRNormalizer.string(body, "As_Of_Effective_Date")) else {
                throw HRNormalizer.unreadable("As_Of_Effective_Date")
            }
            for row in rows {
                let status = HRNormalizer.status(try HRNormalizer.string(row, "Worker_Status"))
                if status == "terminated" && !includeTerminated { continue }
                let hire = try HRNormalizer.string(row, "Hire_Date")
                guard let hireDay = HRCalendar.parse(hire) else { throw HRNormalizer.unreadable("Hire_Date") }
                let key: String
                switch groupBy {
                case "location": key = try HRNormalizer.string(row["Location"] ?? .null, "Location_Name")
                case "manager_level": key = HRNormalizer.managementLevel(try HRNormalizer.string(row["Job_Profile"] ?? .null, "Management_Level"))
                case "hire_year": key = String(hire.prefix(4))
                default: key = try HRNormalizer.string(row["Cost_Center"] ?? .null, "Cost_Center_Name")
                }
                var t = tallies[key] ?? Tally()
                t.headcount += 1
                switch status {
                case "active": t.active += 1
                case "on_leave": t.onLeave += 1
                default: t.terminated += 1
                }
                t.tenureDays += Int(asOf - hireDay)
                tallies[key] = t
                counted += 1
            }
            offset += rows.count
            try context.checkAlive()
            await context.notifier.progress(Double(offset), total: Double(total), message: "Scanned \(offset) of \(total) employees")
            await Task.yield()
            if rows.isEmpty { break }
        } while offset < total

        let ordered =
            groupBy == "hire_year"
            ? tallies.sorted { $0.key < $1.key } : tallies.sorted { ($0.value.headcount, $1.key) > ($1.value.headcount, $0.key) }
        let groups: [JSONValue] = ordered.map { key, t in
            let years = t.headcount > 0 ? (Double(t.tenureDays) / Double(t.headcount) / 365.25 * 100).rounded() / 100 : 0
            return [
                "key": .string(key), "headcount": .int(t.headcount), "active": .int(t.active), "on_leave": .int(t.onLeave),
                "terminated": .int(t.terminated), "avg_tenure_years": .double(years),
            ]
        }
        var text = "Headcount by \(groupBy)\(includeTerminated ? " (terminated included)" : ""): \(counted) employees.\n"
        text += "\(groupBy) | headcount | active | on_leave | avg_tenure_years"
        for g in groups {
            text += "\n\(g["key"]?.stringValue ?? "") | \(g["headcount"]?.intValue ?? 0) | \(g["active"]?.intValue ?? 0) | "
                + "\(g["on_leave"]?.intValue ?? 0) | \(g["avg_tenure_years"]?.doubleValue ?? 0)"
        }
        return ToolOutput(structured: ["group_by": .string(groupBy), "total": .int(counted), "groups": .array(groups)], text: text)
    }
}
