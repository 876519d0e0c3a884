// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// JSON Schema building blocks for the HR tools (only keywords the broker's validator supports).
enum HRSchema {
    static let departments: [String] = [
        "Engineering", "Sales", "Finance", "HR", "Marketing", "Operations", "Legal", "Support", "Product", "IT", "Procurement",
        "Facilities", "Executive",
    ]
    static let statuses: [String] = ["active", "on_leave", "terminated"]
    static let leaveTypes: [String] = ["annual", "sick", "parental", "unpaid"]
    static let employeeIDPattern = "^[0-9]{8}$"

    static func string(_ description: String) -> JSONValue { ["type": "string", "description": .string(description)] }
    static func nullableString(_ description: String) -> JSONValue { ["type": ["string", "null"], "description": .string(description)] }
    static func integer(_ description: String) -> JSONValue { ["type": "integer", "description": .string(description)] }
    static func number(_ description: String) -> JSONValue { ["type": "number", "description": .string(description)] }
    static func boolean(_ description: String) -> JSONValue { ["type": "boolean", "description": .string(description)] }

    static func enumeration(_ values: [String], _ description: String) -> JSONValue {
        ["type": "string", "enum": .array(values.map { .string($0) }), "description": .string(description)]
    }

    static func array(_ items: JSONValue, _ description: String) -> JSONValue {
        ["type": "array", "items": items, "description": .string(description)]
    }

    static func object(_ properties: [String: JSONValue], required: [String] = [], description: String? = nil) -> JSONValue {
        var o: [String: JSONValue] = [
            "type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) }),
        ]
        if let description { o["description"] = .string(description) }
        return .object(o)
    }

    /// An input schema: closed to unknown arguments.
    static func input(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        guard case .object(var o) = object(properties, required: required) else { return .null }
        o["additionalProperties"] = false
        return .object(o)
    }

    static func employeeID(_ description: String = "8-digit employee ID, e.g. 21000042.") -> JSONValue {
        ["type": "string", "pattern": .string(employeeIDPattern), "description": .string(description)]
    }

    static let idempotencyKey: JSONValue = [
        "type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$",
        "description": "Unique key for this request (8-64 letters, digits, _ or -). Retrying with the same key returns the original result instead of creating a duplicate; use a new key for a new request.",
    ]

    static let person: JSONValue = object(
        ["employee_id": string("Employee ID."), "full_name": string("Full name."), "title": string("Business title.")],
        required: ["employee_id", "full_name", "title"])

    /// The normalized employee record (also served as `schemas/employee`).
    static let employeeProperties: [String: JSONValue] = [
        "employee_id": string("8-digit employee ID."),
        "first_name": string("Legal first name."),
        "last_name": string("Legal last name."),
        "full_name": string("First and last name."),
        "email": string("Work e-mail address."),
        "title": string("Business title."),
        "department": enumeration(departments, "Department."),
        "organization_id": string("Supervisory organization (team) ID, e.g. SUP-ENG-004."),
        "organization_name": string("Supervisory organization name."),
        "manager_id": nullableString("Employee ID of the manager; null for the CEO."),
        "management_level": enumeration(["executive", "director", "manager", "individual_contributor"], "Position in the hierarchy."),
        "location": string("Office, e.g. London."),
        "country": string("ISO 3166 country code of the office."),
        "status": enumeration(statuses, "Employment status."),
        "employment_type": enumeration(["full_time", "part_time"], "Working time."),
        "hire_date": ["type": "string", "format": "date", "description": "Hire date (yyyy-MM-dd)."],
    ]

    static var employeeRequired: [String] { employeeProperties.keys.sorted() }

    static let employee: JSONValue = object(employeeProperties, required: employeeRequired, description: "An employee, without compensation.")

    static let orgNode: JSONValue = object(
        [
            "employee_id": string("Employee ID."), "full_name": string("Full name."), "title": string("Business title."),
            "department": string("Department."), "organization_id": string("Supervisory organization ID."),
            "location": string("Office."), "status": enumeration(statuses, "Employment status."),
            "direct_report_count": integer("Direct reports (terminated employees excluded), including those beyond the requested depth."),
            "reports": array(["type": "object", "description": "A direct report, with the same fields as this node."], "Direct reports, nested up to the requested depth."),
        ],
        required: ["employee_id", "full_name", "title", "direct_report_count", "reports"])

    static let leaveRequest: JSONValue = object(
        [
            "request_id": string("Leave request ID, e.g. TOR-0000042."), "employee_id": string("Employee ID."),
            "leave_type": enumeration(leaveTypes, "Leave type."),
            "start_date": ["type": "string", "format": "date", "description": "First day (yyyy-MM-dd)."],
            "end_date": ["type": "string", "format": "date", "description": "Last day (yyyy-MM-dd)."],
            "days": number("Working days (Monday to Friday) in the period."),
            "status": enumeration(["submitted", "approved", "denied", "cancelled"], "Request status."),
            "reason": nullableString("Reason given by the requester."),
        ],
        required: ["request_id", "employee_id", "leave_type", "start_date", "end_date", "days", "status"])

    /// Output schema of a paged search.
    static func page(_ item: JSONValue) -> JSONValue {
        object(
            [
                "items": array(item, "This page of results."), "total": integer("Number of matches across all pages."),
                "next_cursor": nullableString("Pass as cursor to get the next page; null on the last page."),
            ],
            required: ["items", "total", "next_cursor"])
    }
}
