// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

extension MockHRBackend {
    func searchEmployees(_ args: [String: JSONValue], context: CallContext) async throws -> ToolOutput {
        var filters: [String: JSONValue] = [:]
        var query: [String: JSONValue] = [:]
        for key in ["name", "department", "location", "status", "manager_id", "title"] {
            guard let value = args[key]?.stringValue else { continue }
            filters[key] = .string(value)
        }
        if let v = filters["name"]?.stringValue { query["Search"] = .string(v) }
        if let v = filters["department"]?.stringValue { query["Cost_Center"] = .string(v) }
        if let v = filters["location"]?.stringValue { query["Location"] = .string(v) }
        if let v = filters["status"]?.stringValue {
            guard let native = HRNormalizer.nativeStatus(v) else { throw BrokerError.invalidArguments("status must be one of active, on_leave, terminated.") }
            query["Worker_Status"] = .string(native)
        }
        if let v = filters["manager_id"]?.stringValue { query["Manager_Worker_ID"] = .string(v) }
        if let v = filters["title"]?.stringValue { query["Business_Title"] = .string(v) }
        let pageSize = Int(args["page_size"]?.intValue ?? 25)
        guard (1...100).contains(pageSize) else { throw BrokerError.invalidArguments("page_size must be between 1 and 100.") }
        let offset = try args["cursor"]?.stringValue.map { try HRCursor.decode($0, backend: name, context: context, filters: .object(filters)) } ?? 0
        query["limit"] = .int(pageSize)
        query["offset"] = .int(offset)

        let body = try await send(.get, "workers", query: query, subject: HRErrorSubject(managerID: filters["manager_id"]?.stringValue), context: context)
        let rows = try HRNormalizer.entries(body).map(HRNormalizer.employee)
        let total = Int(body["Total"]?.intValue ?? Int64(rows.count))
        let nextOffset = offset + rows.count
        let next: JSONValue =
            nextOffset < total && !rows.isEmpty ? .string(HRCursor.encode(backend: name, context: context, offset: nextOffset, filters: .object(filters))) : .null
        var text = rows.isEmpty ? "No employees match." : "\(total) employees match; showing \(offset + 1)-\(nextOffset):"
        for r in rows {
            text += "\n" + [r["employee_id"], r["full_name"], r["title"], r["department"], r["location"], r["status"]]
                .map { $0?.stringValue ?? "" }.joined(separator: " | ")
        }
        if !next.isNull { text += "\nMore results: pass next_cursor." }
        return ToolOutput(structured: ["items": .array(rows.map { .object($0) }), "total": .int(total), "next_cursor": next], text: text)
    }

    /// The `get_employee` result; also served by the `employees/{employee_id}` resource template.
    func employeeDetail(_ id: String, context: CallContext) async throws -> JSONValue {
        let body = try await send(.get, "workers/\(id)", subject: HRErrorSubject(employeeID: id), context: context)
        guard let worker = body["Worker"] else { throw HRNormalizer.unreadable("Worker") }
        var e = try HRNormalizer.employee(worker)
        let manager = worker["Manager_Reference"] ?? .null
        e["manager"] = manager.isNull ? .null : try HRNormalizer.personSummary(manager)
        e["direct_report_count"] = .int(try HRNormalizer.int(worker, "Direct_Reports_Count"))
        return .object(e)
    }

    func getEmployee(_ args: [String: JSONValue], context: CallContext) async throws -> ToolOutput {
        let e = try await employeeDetail(try Self.employeeID(args), context: context)
        let s = { (k: String) in e[k]?.stringValue ?? "" }
        var text = "\(s("full_name")) (\(s("employee_id"))), \(s("title")), \(s("department")) / \(s("organization_name")), \(s("location")) \(s("country"))"
        text += "; \(s("status")), \(s("employment_type")), hired \(s("hire_date")); \(s("email"))"
        if let m = e["manager"], !m.isNull {
            text += "; manager \(m["full_name"]?.stringValue ?? "") (\(m["employee_id"]?.stringValue ?? ""))"
        }
        text += "; \(e["direct_report_count"]?.intValue ?? 0) direct reports."
        return ToolOutput(structured: e, text: text)
    }

    func getOrgChart(_ args: [String: JSONValue], context: CallContext) async throws -> ToolOutput {
        let id = try Self.employeeID(args)
        let depth = Int(args["depth"]?.intValue ?? 1)
        guard (1...3).contains(depth) else { throw BrokerError.invalidArguments("depth must be between 1 and 3.") }
        let body = try await send(
            .get, "workers/\(id)/organizationChart", query: ["depth": .int(depth)], subject: HRErrorSubject(employeeID: id), context: context)
        guard let worker = body["Worker"] else { throw HRNormalizer.unreadable("Worker") }
        let root = try HRNormalizer.chartNode(worker)
        let chain = try (body["Management_Chain"]?.arrayValue ?? []).map(HRNormalizer.personSummary)
        let total = try HRNormalizer.int(body, "Total_Subordinates")
        var lines: [String] = []
        Self.outline(root, indent: 0, into: &lines)
        let shown = lines.prefix(60)
        var text = "Org chart of \(root["full_name"]?.stringValue ?? id): \(total) people in the subtree.\n" + shown.joined(separator: "\n")
        if lines.count > shown.count { text += "\n… \(lines.count - shown.count) more lines in the structured result." }
        let chainText = chain.compactMap { $0["full_name"]?.stringValue }.joined(separator: " → ")
        text += "\nManagement chain: \(chainText)"
        return ToolOutput(structured: ["root": root, "management_chain": .array(chain), "total_in_subtree": .int(total)], text: text)
    }

    private static func outline(_ node: JSONValue, indent: Int, into lines: inout [String]) {
        let n = node["direct_report_count"]?.intValue ?? 0
        lines.append(
            String(repeating: "  ", count: indent)
                + "- \(node["full_name"]?.stringValue ?? "") (\(node["employee_id"]?.stringValue ?? "")), \(node["title"]?.stringValue ?? "")"
                + (n > 0 ? " [\(n) reports]" : ""))
        for r in node["reports"]?.arrayValue ?? [] { outline(r, indent: indent + 1, into: &lines) }
    }

    /// The `list_departments` result; also served by the `reference/departments` resource.
    func departments(context: CallContext) async throws -> JSONValue {
        let rows = try HRNormalizer.entries(try await send(.get, "organizations", context: context))
        var teams: [String: [JSONValue]] = [:]
        for row in rows where row["Organization_Type"]?.stringValue == "Team" {
            let parent = try HRNormalizer.string(row, "Superior_Organization_ID")
            let lead = row["Manager"] ?? .null
            teams[parent, default: []].append([
                "organization_id": .string(try HRNormalizer.string(row, "Organization_ID")),
                "name": .string(try HRNormalizer.string(row, "Organization_Name")),
                "lead": lead.isNull ? .null : try HRNormalizer.personSummary(lead),
                "headcount": .int(try HRNormalizer.int(row, "Headcount")),
            ])
        }
        var departments: [JSONValue] = []
        for row in rows where row["Organization_Type"]?.stringValue == "Department" {
            let id = try HRNormalizer.string(row, "Organization_ID")
            let head = row["Manager"] ?? .null
            departments.append([
                "department": .string(try HRNormalizer.string(row, "Organization_Name")), "organization_id": .string(id),
                "head": head.isNull ? .null : try HRNormalizer.personSummary(head),
                "headcount": .int(try HRNormalizer.int(row, "Headcount")), "active_headcount": .int(try HRNormalizer.int(row, "Active_Headcount")),
                "locations": row["Location_Names"] ?? [], "teams": .array(teams[id] ?? []),
            ])
        }
        departments.sort { ($0["headcount"]?.intValue ?? 0) > ($1["headcount"]?.intValue ?? 0) }
        return ["departments": .array(departments), "total": .int(departments.count)]
    }

    func listDepartments(context: CallContext) async throws -> ToolOutput {
        let result = try await departments(context: context)
        var text = "department | head | headcount | active | offices"
        for d in result["departments"]?.arrayValue ?? [] {
            let offices = (d["locations"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
            text += "\n\(d["department"]?.stringValue ?? "") | \(d["head"]?["full_name"]?.stringValue ?? "-") | "
                + "\(d["headcount"]?.intValue ?? 0) | \(d["active_headcount"]?.intValue ?? 0) | \(offices)"
        }
        return ToolOutput(structured: result, text: text)
    }

    func getCompensation(_ args: [String: JSONValue], context: CallContext) async throws -> ToolOutput {
        let id = try Self.employeeID(args)
        let body = try await send(.get, "workers/\(id)", subject: HRErrorSubject(employeeID: id), context: context)
        guard let worker = body["Worker"] else { throw HRNormalizer.unreadable("Worker") }
        let c = try HRNormalizer.compensation(worker)
        let pay = c["base_salary_annual"]?.doubleValue ?? 0
        let text = "\(c["full_name"]?.stringValue ?? "") (\(id)): \(Self.money(pay)) \(c["currency"]?.stringValue ?? "") per year, "
            + "grade \(c["pay_grade"]?.stringValue ?? ""), \(c["employment_type"]?.stringValue ?? "")."
        return ToolOutput(structured: c, text: text)
    }

    /// The validated `employee_id` argument.
    static func employeeID(_ args: [String: JSONValue]) throws -> String {
        guard let id = args["employee_id"]?.stringValue, id.count == 8, id.allSatisfy(\.isASCII), Int(id) != nil else {
            throw BrokerError.invalidArguments("employee_id must be an 8-digit employee ID such as 21000042.")
        }
        return id
    }

    /// `123456.5` → `123456.50`.
    static func money(_ value: Double) -> String {
        // The amount comes from the HR system's document: one no Int64 of cents holds is shown as it is, not trapped on.
        guard let cents = Int64(centsOf: value) else { return value.plainText }
        let frac = abs(cents % 100)
        return "\(cents / 100).\(frac < 10 ? "0" : "")\(frac)"
    }
}
