// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import XCTest

@testable import BrokerBackendMockHR

/// Org chart, departments, leave requests (idempotency and business rules), compensation and the long report.
final class MockHRWorkflowTests: XCTestCase {
    /// Annual-leave days an employee can still request: balance minus pending and not-yet-started approved leave.
    private func availableAnnualDays(_ leave: JSONValue) -> Double {
        let asOf = leave["as_of"]?.stringValue ?? ""
        let balance = leave["balances"]?.arrayValue?.first { $0["plan"] == "annual" }?["balance_days"]?.doubleValue ?? 0
        let pending = (leave["pending_requests"]?.arrayValue ?? []).filter { $0["leave_type"] == "annual" }
        let future = (leave["upcoming_approved"]?.arrayValue ?? []).filter { $0["leave_type"] == "annual" && ($0["start_date"]?.stringValue ?? "") > asOf }
        return balance - (pending + future).reduce(0) { $0 + ($1["days"]?.doubleValue ?? 0) }
    }

    /// The first active employee whose available annual leave satisfies `predicate`, with their leave data.
    private func activeEmployee(_ backend: MockHRBackend, where predicate: (Double) -> Bool) async throws -> (id: String, leave: JSONValue) {
        let page = try await HRTest.call(backend, "search_employees", ["status": "active", "department": "Support", "page_size": 100])
        for id in HRTest.ids(page) {
            let leave = try await HRTest.call(backend, "get_leave_balance", ["employee_id": .string(id)])
            if predicate(availableAnnualDays(leave)) { return (id, leave) }
        }
        throw XCTSkip("no employee matched")
    }

    func testIdempotentLeaveRequest() async throws {
        let backend = try HRTest.make()
        let (id, before) = try await activeEmployee(backend) { $0 >= 10 }
        let week = HRTest.futureWeek(0)
        let args: [String: JSONValue] = [
            "employee_id": .string(id), "leave_type": "annual", "start_date": .string(week.start), "end_date": .string(week.end),
            "reason": "Family trip", "idempotency_key": "trip-2027-0001",
        ]
        let first = try await HRTest.call(backend, "request_leave", args)
        let second = try await HRTest.call(backend, "request_leave", args)
        XCTAssertEqual(first, second)
        XCTAssertEqual(first["status"], "submitted")
        XCTAssertEqual(first["days"]?.doubleValue, 5)
        XCTAssertEqual(first["leave_type"], "annual")
        XCTAssertEqual(first["reason"], "Family trip")
        XCTAssertTrue(first["request_id"]?.stringValue?.hasPrefix("TOR-") ?? false)

        let after = try await HRTest.call(backend, "get_leave_balance", ["employee_id": .string(id)])
        let beforeCount = before["pending_requests"]?.arrayValue?.count ?? 0
        XCTAssertEqual(after["pending_requests"]?.arrayValue?.count, beforeCount + 1, "created exactly once")
        XCTAssertTrue(after["pending_requests"]?.arrayValue?.contains { $0["request_id"] == first["request_id"] } ?? false)

        var changed = args
        changed["end_date"] = .string(HRTest.futureWeek(1).end)
        let conflict = await HRTest.callError(backend, "request_leave", changed)
        XCTAssertEqual(conflict?.code, .conflict)
        XCTAssertEqual(conflict?.message.contains("use a new idempotency_key"), true)

        // A new key for an overlapping period is a business conflict naming the existing request.
        changed["idempotency_key"] = "trip-2027-0002"
        let overlap = await HRTest.callError(backend, "request_leave", changed)
        XCTAssertEqual(overlap?.code, .conflict)
        XCTAssertEqual(overlap?.message.contains(first["request_id"]?.stringValue ?? "?"), true)
        XCTAssertEqual(overlap?.message.hasPrefix("Employee \(id) already has leave request"), true)
    }

    func testInsufficientAnnualBalance() async throws {
        let backend = try HRTest.make()
        let (id, leave) = try await activeEmployee(backend) { $0 < 10 }
        let available = availableAnnualDays(leave)
        let start = HRTest.futureWeek(2).start
        let end = HRTest.futureWeek(3).end
        let error = await HRTest.callError(
            backend, "request_leave",
            ["employee_id": .string(id), "leave_type": "annual", "start_date": .string(start), "end_date": .string(end), "idempotency_key": "short-balance-1"])
        XCTAssertEqual(error?.code, .conflict)
        let shown = available.rounded() == available ? String(Int(available)) : String(available)
        XCTAssertEqual(error?.message, "Employee \(id) has \(shown) days of annual leave left; the request needs 10.")
        // Sick leave is not checked against the balance; the failed key can be reused after the failure.
        let sick = try await HRTest.call(
            backend, "request_leave",
            ["employee_id": .string(id), "leave_type": "sick", "start_date": .string(start), "end_date": .string(end), "idempotency_key": "short-balance-1"])
        XCTAssertEqual(sick["days"]?.doubleValue, 10)
    }

    func testLeaveRequestValidation() async throws {
        let backend = try HRTest.make()
        let week = HRTest.futureWeek(4)
        let backwards = await HRTest.callError(
            backend, "request_leave",
            ["employee_id": "21000002", "leave_type": "annual", "start_date": .string(week.end), "end_date": .string(week.start), "idempotency_key": "backwards-1"])
        XCTAssertEqual(backwards?.code, .invalidArguments)
        XCTAssertEqual(backwards?.message, "end_date (\(week.start)) is before start_date (\(week.end)).")

        let weekend = await HRTest.callError(
            backend, "request_leave",
            ["employee_id": "21000002", "leave_type": "unpaid", "start_date": "2027-03-06", "end_date": "2027-03-07", "idempotency_key": "weekend-1"])
        XCTAssertEqual(weekend?.code, .invalidArguments)
        XCTAssertEqual(weekend?.message, "The period 2027-03-06 to 2027-03-07 contains no working days (Monday to Friday).")

        let gone = try await HRTest.call(backend, "search_employees", ["status": "terminated", "page_size": 1])
        let goneID = try XCTUnwrap(HRTest.ids(gone).first)
        let terminated = await HRTest.callError(
            backend, "request_leave",
            ["employee_id": .string(goneID), "leave_type": "sick", "start_date": .string(week.start), "end_date": .string(week.end), "idempotency_key": "terminated-1"])
        XCTAssertEqual(terminated?.code, .conflict)
        XCTAssertEqual(terminated?.message, "Employee \(goneID) is terminated and cannot request leave.")

        let unknown = await HRTest.callError(
            backend, "request_leave",
            ["employee_id": "29999999", "leave_type": "sick", "start_date": .string(week.start), "end_date": .string(week.end), "idempotency_key": "unknown-1"])
        XCTAssertEqual(unknown?.message, "Employee 29999999 not found.")
    }

    func testOrgChartAndManagementChain() async throws {
        let backend = try HRTest.make()
        let chart = try await HRTest.call(backend, "get_org_chart", ["employee_id": "21000001", "depth": 2])
        let root = try XCTUnwrap(chart["root"])
        XCTAssertEqual(root["title"], "Chief Executive Officer")
        let heads = root["reports"]?.arrayValue ?? []
        XCTAssertEqual(heads.count, 12)
        XCTAssertEqual(Set(heads.compactMap { $0["department"]?.stringValue }).count, 12, "one head per department")
        for head in heads {
            XCTAssertEqual(head["reports"]?.arrayValue?.count, Int(head["direct_report_count"]?.intValue ?? -1))
            for grandchild in head["reports"]?.arrayValue ?? [] { XCTAssertEqual(grandchild["reports"]?.arrayValue?.count, 0, "depth 2 stops") }
        }
        let terminated = try await HRTest.call(backend, "search_employees", ["status": "terminated", "page_size": 1])
        XCTAssertEqual(chart["total_in_subtree"]?.intValue, 5000 - 1 - (terminated["total"]?.intValue ?? 0))
        XCTAssertEqual(chart["management_chain"]?.arrayValue?.count, 1)

        let ics = try await HRTest.call(backend, "search_employees", ["department": "Engineering", "status": "active", "title": "senior", "page_size": 5])
        let ic = try XCTUnwrap(ics["items"]?.arrayValue?.first)
        let icChart = try await HRTest.call(backend, "get_org_chart", ["employee_id": ic["employee_id"] ?? .null])
        let chain = icChart["management_chain"]?.arrayValue ?? []
        XCTAssertGreaterThanOrEqual(chain.count, 3)
        XCTAssertEqual(chain.first?["employee_id"], ic["employee_id"])
        XCTAssertEqual(chain.dropFirst().first?["employee_id"], ic["manager_id"])
        XCTAssertEqual(chain.last?["employee_id"], "21000001")
    }

    func testEmployeeDetailAndDepartments() async throws {
        let backend = try HRTest.make()
        let heads = try await HRTest.call(backend, "search_employees", ["manager_id": "21000001"])
        let headID = try XCTUnwrap(HRTest.ids(heads).first)
        let head = try await HRTest.call(backend, "get_employee", ["employee_id": .string(headID)])
        let manager = try XCTUnwrap(head["manager"])
        let managerID = try XCTUnwrap(head["manager_id"]?.stringValue)
        XCTAssertEqual(manager["employee_id"]?.stringValue, managerID)
        XCTAssertEqual(managerID, "21000001")
        XCTAssertEqual(head["management_level"], "executive")
        let reports = try await HRTest.call(backend, "search_employees", ["manager_id": .string(headID), "page_size": 100])
        let leavers = (reports["items"]?.arrayValue ?? []).filter { $0["status"] == "terminated" }.count
        XCTAssertEqual(head["direct_report_count"]?.intValue, Int64((reports["total"]?.intValue ?? 0) - Int64(leavers)))
        let ceo = try await HRTest.call(backend, "get_employee", ["employee_id": "21000001"])
        XCTAssertEqual(ceo["manager_id"], .null)
        XCTAssertEqual(ceo["manager"], .null)

        let result = try await HRTest.call(backend, "list_departments")
        let departments = result["departments"]?.arrayValue ?? []
        XCTAssertEqual(departments.count, 13)
        XCTAssertEqual(departments.first?["department"], "Engineering", "largest first")
        let terminated = try await HRTest.call(backend, "search_employees", ["status": "terminated", "page_size": 1])
        let headcount = departments.reduce(0) { $0 + ($1["headcount"]?.intValue ?? 0) }
        XCTAssertEqual(headcount, 5000 - (terminated["total"]?.intValue ?? 0))
        for d in departments {
            XCTAssertNotEqual(d["head"], .null)
            XCTAssertLessThanOrEqual(d["active_headcount"]?.intValue ?? 0, d["headcount"]?.intValue ?? 0)
        }
        let engineering = try XCTUnwrap(departments.first)
        XCTAssertGreaterThanOrEqual(engineering["teams"]?.arrayValue?.count ?? 0, 3)
        XCTAssertTrue(engineering["teams"]?.arrayValue?.first?["organization_id"]?.stringValue?.hasPrefix("SUP-ENG-") ?? false)
    }

    func testCompensationIsSeparateAndInLocalCurrency() async throws {
        let backend = try HRTest.make()
        let def = try XCTUnwrap(backend.tools.first { $0.name == "get_compensation" })
        XCTAssertTrue(def.description.contains("sensitive: restricted to HR roles") || def.description.contains("Sensitive: restricted to HR roles"))
        let london = try await HRTest.call(backend, "search_employees", ["location": "London", "page_size": 1])
        let id = try XCTUnwrap(HRTest.ids(london).first)
        let pay = try await HRTest.call(backend, "get_compensation", ["employee_id": .string(id)])
        XCTAssertEqual(pay["currency"], "GBP")
        let salary = try XCTUnwrap(pay["base_salary_annual"]?.doubleValue)
        XCTAssertGreaterThan(salary, 10_000)
        XCTAssertEqual((salary * 100).rounded(), salary * 100, "2 decimals")
        XCTAssertNotNil(pay["pay_grade"]?.stringValue)
    }

    func testHeadcountReportReportsStrictlyIncreasingProgress() async throws {
        let backend = try HRTest.make()
        let recorder = HRRecorder()
        let report = try await HRTest.call(backend, "headcount_report", ["group_by": "department"], recorder: recorder)
        let progress = recorder.progressValues
        XCTAssertEqual(progress.count, 10, "5000 workers in chunks of 500")
        for (a, b) in zip(progress, progress.dropFirst()) { XCTAssertLessThan(a.value, b.value) }
        XCTAssertEqual(progress.last?.value, 5000)
        XCTAssertEqual(progress.last?.total, 5000)
        XCTAssertEqual(recorder.logs.count, 1)
        let groups = report["groups"]?.arrayValue ?? []
        XCTAssertEqual(groups.count, 13)
        XCTAssertEqual(groups.reduce(0) { $0 + ($1["headcount"]?.intValue ?? 0) }, report["total"]?.intValue)
        XCTAssertEqual(groups.reduce(0) { $0 + ($1["terminated"]?.intValue ?? 0) }, 0)
        for g in groups { XCTAssert((0.0...15.1).contains(g["avg_tenure_years"]?.doubleValue ?? -1)) }

        let all = try await HRTest.call(backend, "headcount_report", ["group_by": "hire_year", "include_terminated": true])
        XCTAssertEqual(all["total"]?.intValue, 5000)
        let years = (all["groups"]?.arrayValue ?? []).compactMap { $0["key"]?.stringValue }
        XCTAssertEqual(years, years.sorted())
        XCTAssertEqual(years.first, "2011")
        XCTAssertEqual(years.last, "2026")
        let levels = try await HRTest.call(backend, "headcount_report", ["group_by": "manager_level"])
        XCTAssertEqual(
            Set((levels["groups"]?.arrayValue ?? []).compactMap { $0["key"]?.stringValue }),
            ["executive", "director", "manager", "individual_contributor"])
    }

    func testHeadcountReportHonoursCancellation() async throws {
        let backend = try HRTest.make(HRTest.yaml(extraSystem: ", latency_ms: 20"))
        let task = Task { try await backend.callTool("headcount_report", arguments: [:], context: HRTest.context()) }
        try await Task.sleep(for: .milliseconds(60))
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("the report should have been cancelled")
        } catch let error as BrokerError {
            XCTAssertEqual(error.code, .cancelled)
        }
    }
}
