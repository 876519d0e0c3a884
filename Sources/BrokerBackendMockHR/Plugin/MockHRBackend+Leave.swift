// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

extension MockHRBackend {
    func getLeaveBalance(_ args: [String: JSONValue], context: CallContext) async throws -> ToolOutput {
        let id = try Self.employeeID(args)
        let subject = HRErrorSubject(employeeID: id)
        let balancesBody = try await send(.get, "workers/\(id)/timeOffBalances", subject: subject, context: context)
        let requestsBody = try await send(.get, "workers/\(id)/timeOffRequests", subject: subject, context: context)
        let asOf = try HRNormalizer.string(balancesBody, "As_Of_Date")
        let balances = try HRNormalizer.entries(balancesBody).map(HRNormalizer.balance)
        let requests = try HRNormalizer.entries(requestsBody).map(HRNormalizer.leaveRequest)
        let pending = requests.filter { $0["status"] == "submitted" }
        let upcoming = requests.filter { $0["status"] == "approved" && ($0["end_date"]?.stringValue ?? "") >= asOf }
        let fullName = try HRNormalizer.string(balancesBody, "Worker_Descriptor")
        var text = "Leave balances of \(fullName) (\(id)) as of \(asOf):"
        for b in balances {
            text += "\n\(b["plan"]?.stringValue ?? ""): \(Self.days(b["balance_days"])) days left "
                + "(accrued \(Self.days(b["accrued_ytd"])), taken \(Self.days(b["taken_ytd"])) this year)"
        }
        for (label, list) in [("Pending", pending), ("Upcoming approved", upcoming)] where !list.isEmpty {
            text += "\n\(label): " + list.map(Self.requestLine).joined(separator: "; ")
        }
        let result: JSONValue = [
            "employee_id": .string(id), "full_name": .string(fullName), "as_of": .string(asOf), "balances": .array(balances),
            "pending_requests": .array(pending), "upcoming_approved": .array(upcoming),
        ]
        return ToolOutput(structured: result, text: text)
    }

    func requestLeave(_ args: [String: JSONValue], context: CallContext) async throws -> ToolOutput {
        let id = try Self.employeeID(args)
        guard let leaveType = args["leave_type"]?.stringValue, let plan = HRNormalizer.plan(leaveType) else {
            throw BrokerError.invalidArguments("leave_type must be one of annual, sick, parental, unpaid.")
        }
        guard let start = args["start_date"]?.stringValue, let end = args["end_date"]?.stringValue,
            let startDay = HRCalendar.parse(start), let endDay = HRCalendar.parse(end)
        else { throw BrokerError.invalidArguments("start_date and end_date must be dates in the format yyyy-MM-dd.") }
        guard endDay >= startDay else { throw BrokerError.invalidArguments("end_date (\(end)) is before start_date (\(start)).") }
        guard endDay - startDay <= 365 else { throw BrokerError.invalidArguments("A leave request may span at most 366 days; split it.") }
        guard let key = args["idempotency_key"]?.stringValue, key.count >= 8, key.count <= 64 else {
            throw BrokerError.invalidArguments("idempotency_key is required (8-64 letters, digits, _ or -).")
        }
        var body: [String: JSONValue] = ["Plan": .string(plan), "Start_Date": .string(start), "End_Date": .string(end)]
        if let reason = args["reason"]?.stringValue { body["Comment"] = .string(reason) }
        let response = try await send(
            .post, "workers/\(id)/timeOffRequests", body: .object(body), idempotencyKey: key,
            subject: HRErrorSubject(employeeID: id, startDate: start, endDate: end, idempotencyKey: key), context: context)
        guard let native = response["Time_Off_Request"] else { throw HRNormalizer.unreadable("Time_Off_Request") }
        let created = try HRNormalizer.leaveRequest(native)
        let text = "Leave request \(created["request_id"]?.stringValue ?? "") submitted for employee \(id): \(Self.requestLine(created)); awaiting approval."
        return ToolOutput(structured: created, text: text)
    }

    /// `annual 2026-07-06..2026-07-10 (5 days, submitted)`.
    static func requestLine(_ r: JSONValue) -> String {
        "\(r["leave_type"]?.stringValue ?? "") \(r["start_date"]?.stringValue ?? "")..\(r["end_date"]?.stringValue ?? "") "
            + "(\(days(r["days"])) days, \(r["status"]?.stringValue ?? ""))"
    }

    static func days(_ v: JSONValue?) -> String { HRErrorMapper.days(v?.doubleValue ?? 0) }
}
