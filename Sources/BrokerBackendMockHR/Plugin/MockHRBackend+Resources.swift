// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore

extension MockHRBackend {
    /// Reads reference data or one employee for the caller's tenant.
    public func readResource(uri: String, context: CallContext) async throws -> [ResourceContents] {
        let notFound = BrokerError.notFound("Resource \(uri) not found.")
        guard ResourceURI.backend(of: uri) == name, let path = ResourceURI.path(of: uri) else { throw notFound }
        let content: JSONValue
        switch path {
        case HRResources.departmentsPath: content = try await departments(context: context)
        case HRResources.leaveTypesPath: content = try HRResources.leaveTypes(try await send(.get, "timeOffPlans", context: context))
        case HRResources.locationsPath: content = try HRResources.locations(try await send(.get, "locations", context: context))
        case HRResources.employeeSchemaPath:
            guard case .object(var schema) = HRSchema.employee else { throw notFound }
            schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
            schema["title"] = "Employee"
            content = .object(schema)
        default:
            guard let template = resourceTemplates.first, let id = template.match(uri)?["employee_id"] else { throw notFound }
            guard id.count == 8, Int(id) != nil else { throw BrokerError.notFound("Employee \(id.prefix(40)) not found.") }
            content = try await employeeDetail(id, context: context)
        }
        return [ResourceContents(uri: uri, mimeType: "application/json", text: content.jsonText)]
    }

    /// Renders a prompt that tells the model which tools of this instance to use.
    public func getPrompt(_ name: String, arguments: [String: String], context: CallContext) async throws -> GetPromptResult {
        let tool = { (local: String) in "\(self.name)__\(local)" }
        switch name {
        case "team_overview":
            let manager = arguments["manager_id"]?.trimmingCharacters(in: .whitespaces) ?? ""
            guard manager.count == 8, Int(manager) != nil else {
                throw BrokerError.invalidArguments("manager_id must be an 8-digit employee ID such as 21000042.")
            }
            let text = """
                Give me an overview of the team led by manager \(manager).
                1. Call \(tool("get_org_chart")) with employee_id "\(manager)" and depth 2 to see the team structure and management chain.
                2. For each direct report (and the manager), call \(tool("get_leave_balance")) to see who is on leave, pending requests and remaining annual leave.
                3. Summarise: team size and structure, who is on leave or has upcoming leave, anyone with very low or very high annual leave balance, and anything the manager should act on.
                Do not look up compensation.
                """
            return GetPromptResult(description: "Overview of manager \(manager)'s team", messages: [PromptMessage(role: .user, content: .text(text))])
        case "leave_planning":
            let requested = arguments["department"]?.trimmingCharacters(in: .whitespaces) ?? ""
            guard let department = HRSchema.departments.first(where: { $0.lowercased() == requested.lowercased() }) else {
                throw BrokerError.invalidArguments("department must be one of \(HRSchema.departments.joined(separator: ", ")).")
            }
            var period = "the coming weeks"
            if let month = arguments["month"]?.trimmingCharacters(in: .whitespaces), !month.isEmpty {
                guard month.count == 7, HRCalendar.parse(month + "-01") != nil else {
                    throw BrokerError.invalidArguments("month must be written yyyy-MM, e.g. 2026-08.")
                }
                period = month
            }
            let text = """
                Help me plan leave in the \(department) department for \(period).
                1. Call \(tool("list_departments")) to see the department's head, headcount and teams.
                2. Call \(tool("search_employees")) with department "\(department)" and status "on_leave" to see who is away now; then page through the active employees of the department (department "\(department)", status "active").
                3. For the team leads and a representative sample of employees, call \(tool("get_leave_balance")) to find approved or pending leave in \(period) and annual leave balances at risk (very high balances that may be lost, or balances too low for planned leave).
                4. Summarise: who is away in \(period), coverage gaps per team, and balances that need attention.
                """
            return GetPromptResult(
                description: "Leave planning for \(department), \(period)", messages: [PromptMessage(role: .user, content: .text(text))])
        default:
            throw BrokerError.notFound("Prompt \(name) not found.")
        }
    }
}
