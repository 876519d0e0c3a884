// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// The HR tools: names, descriptions for the model, input and output schemas, annotations.
enum HRToolDefinitions {
    static let read = ToolAnnotations(readOnly: true, idempotent: true)
    static let write = ToolAnnotations(readOnly: false, destructive: false, idempotent: true)

    static func all(instanceDescription: String?) -> [ToolDefinition] {
        let suffix = instanceDescription.map { " System: \($0)" } ?? ""
        let S = HRSchema.self
        let employeeArg = ["employee_id": S.employeeID()]
        return [
            ToolDefinition(
                name: "search_employees", title: "Search employees",
                description: "Find employees by name, department, office, status, manager or title. All filters are optional and combine with AND; all statuses are included unless `status` is given. Returns a page of employees (no compensation) with `next_cursor` for more." + suffix,
                inputSchema: S.input([
                    "name": ["type": "string", "minLength": 1, "maxLength": 100, "description": "Part of the full name, case-insensitive."],
                    "department": S.enumeration(S.departments, "Department."),
                    "location": ["type": "string", "minLength": 2, "maxLength": 60, "description": "Office name (London, Berlin, New York, Austin, Singapore, Bangalore, Dublin, Toronto) or ISO country code (GB, DE, US, SG, IN, IE, CA)."],
                    "status": S.enumeration(S.statuses, "Employment status."),
                    "manager_id": S.employeeID("Only direct reports of this manager."),
                    "title": ["type": "string", "minLength": 1, "maxLength": 100, "description": "Part of the business title, case-insensitive."],
                    "page_size": ["type": "integer", "minimum": 1, "maximum": 100, "default": 25, "description": "Results per page (1-100, default 25)."],
                    "cursor": ["type": "string", "minLength": 1, "maxLength": 300, "description": "next_cursor from the previous page of the same search."],
                ]),
                outputSchema: S.page(S.employee), annotations: read),
            ToolDefinition(
                name: "get_employee", title: "Get employee",
                description: "One employee's record (no compensation) with a summary of their manager and their number of direct reports." + suffix,
                inputSchema: S.input(employeeArg, required: ["employee_id"]),
                outputSchema: S.object(
                    S.employeeProperties.merging([
                        "manager": ["type": ["object", "null"], "description": "The manager (employee_id, full_name, title); null for the CEO."],
                        "direct_report_count": S.integer("Direct reports, terminated employees excluded."),
                    ]) { a, _ in a },
                    required: S.employeeRequired + ["manager", "direct_report_count"]),
                annotations: read),
            ToolDefinition(
                name: "get_org_chart", title: "Org chart",
                description: "The reporting tree below an employee (down to `depth` levels, default 1) and their management chain up to the CEO. Terminated employees are left out." + suffix,
                inputSchema: S.input(
                    [
                        "employee_id": S.employeeID("Root of the chart (the CEO is the longest-serving employee)."),
                        "depth": ["type": "integer", "minimum": 1, "maximum": 3, "default": 1, "description": "Levels of reports to include (1-3)."],
                    ], required: ["employee_id"]),
                outputSchema: S.object(
                    [
                        "root": S.orgNode,
                        "management_chain": S.array(S.person, "From the employee (first) up to the CEO (last)."),
                        "total_in_subtree": S.integer("Employees reporting to the root directly or indirectly, at any depth."),
                    ], required: ["root", "management_chain", "total_in_subtree"]),
                annotations: read),
            ToolDefinition(
                name: "list_departments", title: "List departments",
                description: "All departments with their head, headcount (active + on leave), active headcount, offices and teams." + suffix,
                inputSchema: S.input([:]),
                outputSchema: S.object(
                    ["departments": S.array(HRDepartmentsSchema.department, "Departments, largest first."), "total": S.integer("Number of departments.")],
                    required: ["departments", "total"]),
                annotations: read),
            ToolDefinition(
                name: "get_leave_balance", title: "Leave balance",
                description: "An employee's leave balances per leave type (year to date, in working days) with their pending (submitted) and upcoming approved leave requests." + suffix,
                inputSchema: S.input(employeeArg, required: ["employee_id"]),
                outputSchema: S.object(
                    [
                        "employee_id": S.string("Employee ID."), "full_name": S.string("Full name."),
                        "as_of": ["type": "string", "format": "date", "description": "Date the balances apply to."],
                        "balances": S.array(
                            S.object(
                                [
                                    "plan": S.enumeration(S.leaveTypes, "Leave type."), "balance_days": S.number("Days left."),
                                    "accrued_ytd": S.number("Days accrued or granted this year."), "taken_ytd": S.number("Days taken this year."),
                                ], required: ["plan", "balance_days", "accrued_ytd", "taken_ytd"]), "One entry per leave type."),
                        "pending_requests": S.array(S.leaveRequest, "Submitted requests awaiting approval."),
                        "upcoming_approved": S.array(S.leaveRequest, "Approved requests that have not ended yet."),
                    ], required: ["employee_id", "full_name", "as_of", "balances", "pending_requests", "upcoming_approved"]),
                annotations: read),
            ToolDefinition(
                name: "get_compensation", title: "Get compensation",
                description: "Sensitive: restricted to HR roles. An employee's annual base salary, currency and pay grade. Use only when the user's task needs pay data." + suffix,
                inputSchema: S.input(employeeArg, required: ["employee_id"]),
                outputSchema: S.object(
                    [
                        "employee_id": S.string("Employee ID."), "full_name": S.string("Full name."),
                        "base_salary_annual": S.number("Annual base salary in `currency`, 2 decimals."),
                        "currency": S.string("ISO 4217 currency code."), "pay_grade": S.string("Pay grade, e.g. P3, M2, E1."),
                        "employment_type": S.enumeration(["full_time", "part_time"], "Working time (part-time pay is pro rata)."),
                    ], required: ["employee_id", "full_name", "base_salary_annual", "currency", "pay_grade", "employment_type"]),
                annotations: read),
            ToolDefinition(
                name: "request_leave", title: "Request leave",
                description: "Submit a leave request for an employee (status becomes submitted, awaiting approval). Days count Monday to Friday. Annual leave must fit the remaining balance; the period must not overlap another submitted or approved request; terminated employees cannot request leave." + suffix,
                inputSchema: S.input(
                    [
                        "employee_id": S.employeeID(), "leave_type": S.enumeration(S.leaveTypes, "Leave type."),
                        "start_date": ["type": "string", "format": "date", "description": "First day of leave (yyyy-MM-dd)."],
                        "end_date": ["type": "string", "format": "date", "description": "Last day of leave (yyyy-MM-dd), on or after start_date."],
                        "reason": ["type": "string", "maxLength": 500, "description": "Optional note for the approver."],
                        "idempotency_key": S.idempotencyKey,
                    ], required: ["employee_id", "leave_type", "start_date", "end_date", "idempotency_key"]),
                outputSchema: S.leaveRequest, annotations: write),
            ToolDefinition(
                name: "headcount_report", title: "Headcount report",
                description: "Scans every employee and reports headcount per department, office, management level or hire year, with active/on-leave counts and average tenure. Long-running: reports progress." + suffix,
                inputSchema: S.input([
                    "group_by": ["type": "string", "enum": ["department", "location", "manager_level", "hire_year"], "default": "department", "description": "Grouping (default department)."],
                    "include_terminated": ["type": "boolean", "default": false, "description": "Count terminated employees too (default false)."],
                ]),
                outputSchema: S.object(
                    [
                        "group_by": S.string("The grouping used."), "total": S.integer("Employees counted."),
                        "groups": S.array(
                            S.object(
                                [
                                    "key": S.string("Group value."), "headcount": S.integer("Employees counted in the group."),
                                    "active": S.integer("Active employees."), "on_leave": S.integer("Employees on leave of absence."),
                                    "terminated": S.integer("Terminated employees (0 unless include_terminated)."),
                                    "avg_tenure_years": S.number("Average years since hire, 2 decimals."),
                                ], required: ["key", "headcount", "active", "on_leave", "terminated", "avg_tenure_years"]),
                            "Groups; hire years in order, otherwise largest first."),
                    ], required: ["group_by", "total", "groups"]),
                annotations: read),
        ]
    }
}

/// Output shape of a department.
enum HRDepartmentsSchema {
    static let department: JSONValue = HRSchema.object(
        [
            "department": HRSchema.string("Department name."), "organization_id": HRSchema.string("Supervisory organization ID, e.g. SUP-ENG."),
            "head": ["type": ["object", "null"], "description": "Department head (employee_id, full_name, title)."],
            "headcount": HRSchema.integer("Active and on-leave employees."), "active_headcount": HRSchema.integer("Active employees."),
            "locations": HRSchema.array(["type": "string"], "Offices, most staffed first."),
            "teams": HRSchema.array(
                HRSchema.object(
                    [
                        "organization_id": HRSchema.string("Team organization ID."), "name": HRSchema.string("Team name."),
                        "lead": ["type": ["object", "null"], "description": "Team lead (employee_id, full_name, title)."],
                        "headcount": HRSchema.integer("Active and on-leave employees in the team."),
                    ], required: ["organization_id", "name", "headcount"]), "Teams (sub-organizations)."),
        ], required: ["department", "organization_id", "head", "headcount", "active_headcount", "locations", "teams"])
}
