// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// Resource and template declarations of an HR instance.
enum HRResources {
    static let departmentsPath = "reference/departments"
    static let leaveTypesPath = "reference/leave-types"
    static let locationsPath = "reference/locations"
    static let employeeSchemaPath = "schemas/employee"

    static func resources(backend: String) -> [Resource] {
        [
            Resource(
                uri: ResourceURI.make(backend: backend, path: departmentsPath), name: "departments", title: "Departments",
                description: "Departments with head, headcount, offices and teams."),
            Resource(
                uri: ResourceURI.make(backend: backend, path: leaveTypesPath), name: "leave-types", title: "Leave types",
                description: "Leave types with accrual rules and yearly entitlements per country."),
            Resource(
                uri: ResourceURI.make(backend: backend, path: locationsPath), name: "locations", title: "Locations",
                description: "Offices with country, currency, time zone and headcount."),
            Resource(
                uri: ResourceURI.make(backend: backend, path: employeeSchemaPath), name: "employee-schema", title: "Employee schema",
                description: "JSON Schema of the employee records returned by the HR tools."),
        ]
    }

    static func templates(backend: String) -> [ResourceTemplate] {
        [
            ResourceTemplate(
                uriTemplate: ResourceURI.make(backend: backend, path: "employees/{employee_id}"), name: "employee", title: "Employee",
                description: "One employee by 8-digit ID (same content as get_employee).")
        ]
    }

    /// Normalized leave types from the native plan list.
    static func leaveTypes(_ body: JSONValue) throws -> JSONValue {
        let types: [JSONValue] = try HRNormalizer.entries(body).map { row in
            let frequency = try HRNormalizer.string(row, "Accrual_Frequency")
            let basis = try HRNormalizer.string(row, "Entitlement_Basis") == "Per_Event" ? "per_event" : "per_year"
            let checked = row["Balance_Validation"]?.boolValue ?? false
            let entitlements: [JSONValue] = try (row["Entitlements"]?.arrayValue ?? []).map {
                ["country": .string(try HRNormalizer.string($0, "Country_ISO")), "days": .int(try HRNormalizer.int($0, "Days"))]
            }
            let rule: String
            switch frequency {
            case "Monthly": rule = "Accrues monthly: one twelfth of the yearly entitlement each month; unused days carry over (up to 5)."
            case "Annual_Grant": rule = "Granted in full on 1 January; unused days lapse at year end."
            case "Per_Event": rule = "Granted per qualifying event (birth or adoption)."
            default: rule = "No accrual."
            }
            return [
                "leave_type": .string(HRNormalizer.leaveType(try HRNormalizer.string(row, "Plan"))),
                "name": .string(try HRNormalizer.string(row, "Plan_Name")), "unit": "days",
                "accrual": .string(frequency.lowercased()), "entitlement_basis": .string(basis),
                "accrual_rule": .string(rule + (checked ? " Requests are checked against the remaining balance." : "")),
                "balance_checked": .bool(checked), "entitlements": .array(entitlements),
            ]
        }
        return ["leave_types": .array(types)]
    }

    /// Normalized offices from the native location list.
    static func locations(_ body: JSONValue) throws -> JSONValue {
        let rows: [JSONValue] = try HRNormalizer.entries(body).map { row in
            [
                "location_id": .string(try HRNormalizer.string(row, "Location_ID")), "name": .string(try HRNormalizer.string(row, "Location_Name")),
                "country": .string(try HRNormalizer.string(row, "Country_ISO")), "currency": .string(try HRNormalizer.string(row, "Currency_Code")),
                "time_zone": .string(try HRNormalizer.string(row, "Time_Zone")), "headcount": .int(try HRNormalizer.int(row, "Worker_Count")),
            ]
        }
        return ["locations": .array(rows)]
    }
}

/// Prompt declarations of an HR instance.
enum HRPrompts {
    static let all: [Prompt] = [
        Prompt(
            name: "team_overview", title: "Team overview",
            description: "Summarise a manager's team: structure, who is away, leave balances.",
            arguments: [PromptArgument(name: "manager_id", description: "8-digit employee ID of the manager.", required: true)]),
        Prompt(
            name: "leave_planning", title: "Leave planning",
            description: "Who in a department is away, and whose leave balances are at risk.",
            arguments: [
                PromptArgument(name: "department", description: "Department name, e.g. Engineering.", required: true),
                PromptArgument(name: "month", description: "Month to plan for, yyyy-MM (optional)."),
            ]),
    ]
}
