// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// Maps the HR system's native records (`Worker_ID`, `Legal_Name_Data`, `Worker_Status`…) to the documented
/// snake_case shapes. Compensation is never copied into employee records; only ``compensation(_:)`` reads it.
enum HRNormalizer {
    /// A native response that lacks a field the mapping needs.
    static func unreadable(_ what: String) -> BrokerError {
        BrokerError(.backendError, "The HR system returned a record the broker could not read.", detail: "missing or malformed \(what)")
    }

    static func string(_ v: JSONValue, _ key: String) throws -> String {
        guard let s = v[key]?.stringValue else { throw unreadable(key) }
        return s
    }

    static func number(_ v: JSONValue, _ key: String) throws -> Double {
        guard let d = v[key]?.doubleValue else { throw unreadable(key) }
        return d
    }

    static func int(_ v: JSONValue, _ key: String) throws -> Int {
        guard let i = v[key]?.intValue else { throw unreadable(key) }
        return Int(i)
    }

    static func status(_ native: String) -> String {
        switch native {
        case "Active": return "active"
        case "Leave_of_Absence": return "on_leave"
        case "Terminated": return "terminated"
        default: return native.lowercased()
        }
    }

    /// `Submitted` → `submitted`.
    static func requestStatus(_ native: String) -> String { native.lowercased() }

    static func managementLevel(_ native: String) -> String {
        switch native {
        case "Individual_Contributor": return "individual_contributor"
        default: return native.lowercased()
        }
    }

    /// Native plan → `leave_type`.
    static func leaveType(_ plan: String) -> String {
        switch plan {
        case "Annual_Leave": return "annual"
        case "Sick_Leave": return "sick"
        case "Parental_Leave": return "parental"
        case "Unpaid_Leave": return "unpaid"
        default: return plan.lowercased()
        }
    }

    /// `leave_type` → native plan.
    static func plan(_ leaveType: String) -> String? {
        ["annual": "Annual_Leave", "sick": "Sick_Leave", "parental": "Parental_Leave", "unpaid": "Unpaid_Leave"][leaveType]
    }

    /// `status` filter → native `Worker_Status`.
    static func nativeStatus(_ status: String) -> String? {
        ["active": "Active", "on_leave": "Leave_of_Absence", "terminated": "Terminated"][status]
    }

    /// A worker record → employee object (no compensation).
    static func employee(_ w: JSONValue) throws -> [String: JSONValue] {
        let name = w["Legal_Name_Data"] ?? .null
        let org = w["Supervisory_Organization"] ?? .null
        let location = w["Location"] ?? .null
        let manager = w["Manager_Worker_ID"] ?? .null
        return [
            "employee_id": .string(try string(w, "Worker_ID")),
            "first_name": .string(try string(name, "First_Name")),
            "last_name": .string(try string(name, "Last_Name")),
            "full_name": .string(try string(w, "Worker_Descriptor")),
            "email": .string(try string(w, "Email_Address")),
            "title": .string(try string(w, "Business_Title")),
            "department": .string(try string(w["Cost_Center"] ?? .null, "Cost_Center_Name")),
            "organization_id": .string(try string(org, "Organization_ID")),
            "organization_name": .string(try string(org, "Organization_Name")),
            "manager_id": manager.isNull ? .null : .string(try string(w, "Manager_Worker_ID")),
            "management_level": .string(managementLevel(try string(w["Job_Profile"] ?? .null, "Management_Level"))),
            "location": .string(try string(location, "Location_Name")),
            "country": .string(try string(location, "Country_ISO")),
            "status": .string(status(try string(w, "Worker_Status"))),
            "employment_type": .string(try string(w, "Time_Type") == "Part_time" ? "part_time" : "full_time"),
            "hire_date": .string(try string(w, "Hire_Date")),
        ]
    }

    /// A short reference to a person.
    static func personSummary(_ ref: JSONValue) throws -> JSONValue {
        [
            "employee_id": .string(try string(ref, "Worker_ID")), "full_name": .string(try string(ref, "Worker_Descriptor")),
            "title": .string(try string(ref, "Business_Title")),
        ]
    }

    /// An org-chart node with its nested reports.
    static func chartNode(_ n: JSONValue) throws -> JSONValue {
        let reports = try (n["Direct_Reports"]?.arrayValue ?? []).map(chartNode)
        return [
            "employee_id": .string(try string(n, "Worker_ID")), "full_name": .string(try string(n, "Worker_Descriptor")),
            "title": .string(try string(n, "Business_Title")),
            "department": .string(try string(n["Cost_Center"] ?? .null, "Cost_Center_Name")),
            "organization_id": .string(try string(n["Supervisory_Organization"] ?? .null, "Organization_ID")),
            "location": .string(try string(n["Location"] ?? .null, "Location_Name")),
            "status": .string(status(try string(n, "Worker_Status"))),
            "direct_report_count": .int(try int(n, "Direct_Reports_Count")), "reports": .array(reports),
        ]
    }

    /// A time-off request.
    static func leaveRequest(_ r: JSONValue) throws -> JSONValue {
        [
            "request_id": .string(try string(r, "Request_ID")), "employee_id": .string(try string(r, "Worker_ID")),
            "leave_type": .string(leaveType(try string(r, "Plan"))), "start_date": .string(try string(r, "Start_Date")),
            "end_date": .string(try string(r, "End_Date")), "days": .double(try number(r, "Days")),
            "status": .string(requestStatus(try string(r, "Status"))), "reason": .string(r["Comment"]?.stringValue),
        ]
    }

    /// A plan balance.
    static func balance(_ b: JSONValue) throws -> JSONValue {
        [
            "plan": .string(leaveType(try string(b, "Plan"))), "balance_days": .double(try number(b, "Balance_Days")),
            "accrued_ytd": .double(try number(b, "Accrued_YTD")), "taken_ytd": .double(try number(b, "Taken_YTD")),
        ]
    }

    /// Compensation of a worker record.
    static func compensation(_ w: JSONValue) throws -> JSONValue {
        let c = w["Compensation"] ?? .null
        let pay = (try number(c, "Base_Pay_Annual") * 100).rounded() / 100
        return [
            "employee_id": .string(try string(w, "Worker_ID")), "full_name": .string(try string(w, "Worker_Descriptor")),
            "base_salary_annual": .double(pay), "currency": .string(try string(c, "Currency_Code")),
            "pay_grade": .string(try string(c, "Pay_Grade")),
            "employment_type": .string(try string(w, "Time_Type") == "Part_time" ? "part_time" : "full_time"),
        ]
    }

    /// The rows of a native report envelope.
    static func entries(_ body: JSONValue) throws -> [JSONValue] {
        guard let rows = body["Report_Entry"]?.arrayValue else { throw unreadable("Report_Entry") }
        return rows
    }
}
