// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import SimulationKit
import XCTest

@testable import BrokerBackendMockHR

/// Data, isolation, credentials, faults, normalization and paging of the mock HR backend.
final class MockHRTests: XCTestCase {
    func testSameSeedGivesIdenticalRecordsAndOtherSeedDiffers() async throws {
        let a = try HRTest.make()
        let b = try HRTest.make()
        let c = try HRTest.make(HRTest.yaml(seed: 7))
        let pageA = try await HRTest.call(a, "search_employees", ["page_size": 20])
        let pageB = try await HRTest.call(b, "search_employees", ["page_size": 20])
        let pageC = try await HRTest.call(c, "search_employees", ["page_size": 20])
        // Cursors are sealed with a fresh nonce each time; everything else is the same.
        XCTAssertEqual(pageA["items"], pageB["items"])
        XCTAssertEqual(pageA["total"], pageB["total"])
        XCTAssertEqual(HRTest.ids(pageA).count, 20)
        XCTAssertNotEqual(pageA["items"], pageC["items"])
        let detailA = try await HRTest.call(a, "get_employee", ["employee_id": .string(HRTest.ids(pageA)[7])])
        let detailB = try await HRTest.call(b, "get_employee", ["employee_id": .string(HRTest.ids(pageA)[7])])
        XCTAssertEqual(detailA, detailB)
    }

    func testFullSizePartitionAndGenerationTime() async throws {
        let backend = try HRTest.make()
        let started = ContinuousClock.now
        let all = try await HRTest.call(backend, "search_employees", ["page_size": 1])
        let elapsed = ContinuousClock.now - started
        print("mock-hr: first call incl. generation of 5000 employees took \(elapsed)")
        XCTAssertGreaterThanOrEqual(all["total"]?.intValue ?? 0, 5000)
        // The brief's budget is 1.5 s in debug; allow headroom for a loaded shared machine.
        XCTAssertLessThan(elapsed, .seconds(3))

        let terminated = try await HRTest.call(backend, "search_employees", ["status": "terminated", "page_size": 1])
        let onLeave = try await HRTest.call(backend, "search_employees", ["status": "on_leave", "page_size": 1])
        XCTAssert((75...250).contains(terminated["total"]?.intValue ?? 0), "about 3% terminated, got \(terminated["total"] ?? .null)")
        XCTAssert((50...180).contains(onLeave["total"]?.intValue ?? 0), "about 2% on leave, got \(onLeave["total"] ?? .null)")
        let engineering = try await HRTest.call(backend, "search_employees", ["department": "Engineering", "page_size": 1])
        XCTAssert((1000...1500).contains(engineering["total"]?.intValue ?? 0))
    }

    func testOrgTreeHasOneCEOAndRealisticSpans() async throws {
        let backend = try HRTest.make()
        let p = try XCTUnwrap(backend.system.partition(tenant: "acme"))
        XCTAssertEqual(p.workers.filter { $0.manager < 0 }.count, 1)
        XCTAssertEqual(p.workers[0].manager, -1, "the CEO is the longest-serving worker")
        XCTAssertEqual(p.reports[0].count, 12, "department heads report to the CEO")
        let managers = p.reports.enumerated().filter { $0.offset != 0 && !$0.element.isEmpty }.map(\.element.count)
        let average = Double(managers.reduce(0, +)) / Double(managers.count)
        XCTAssert((3.0...10.0).contains(average), "average span \(average)")
        XCTAssertGreaterThan(Double(managers.filter { (3...10).contains($0) }.count) / Double(managers.count), 0.85)
        let emails = Set(p.workers.map(\.emailLocal))
        XCTAssertEqual(emails.count, p.workers.count, "e-mail addresses are unique")
    }

    func testTenantsAreIsolated() async throws {
        let backend = try HRTest.make()
        let globex = try await HRTest.call(backend, "search_employees", ["page_size": 3], tenant: "globex")
        let acme = try await HRTest.call(backend, "search_employees", ["page_size": 3], tenant: "acme")
        let foreignID = try XCTUnwrap(HRTest.ids(globex).first)
        XCTAssertTrue(Set(HRTest.ids(globex)).isDisjoint(with: HRTest.ids(acme)))
        let error = await HRTest.callError(backend, "get_employee", ["employee_id": .string(foreignID)], tenant: "acme")
        XCTAssertEqual(error?.code, .notFound)
        XCTAssertEqual(error?.message, "Employee \(foreignID) not found.")
        let own = try await HRTest.call(backend, "get_employee", ["employee_id": .string(foreignID)], tenant: "globex")
        XCTAssertEqual(own["employee_id"]?.stringValue, foreignID)
        XCTAssertTrue(own["email"]?.stringValue?.hasSuffix("@globex.example.com") ?? false)

        let stranger = await HRTest.callError(backend, "search_employees", [:], tenant: "initech")
        XCTAssertEqual(stranger?.code, .forbidden)
        XCTAssertEqual(stranger?.message.hasPrefix("Your organisation is not provisioned in"), true)
    }

    func testUnknownEmployeeMessage() async throws {
        let backend = try HRTest.make()
        let error = await HRTest.callError(backend, "get_employee", ["employee_id": "99999999"])
        XCTAssertEqual(error?.code, .notFound)
        XCTAssertEqual(error?.message, "Employee 99999999 not found.")
        XCTAssertFalse(error?.message.contains("INVALID_ID") ?? true)
        let manager = await HRTest.callError(backend, "search_employees", ["manager_id": "99999999"])
        XCTAssertEqual(manager?.message, "Manager 99999999 not found.")
    }

    func testWrongCredentialIsRejectedAndHealthIsUnhealthy() async throws {
        setenv("TEST_HR_WRONG_KEY", "not-the-key", 1)
        let backend = try HRTest.make(HRTest.yaml(apiKey: "env:TEST_HR_WRONG_KEY"))
        let error = await HRTest.callError(backend, "search_employees", [:])
        XCTAssertEqual(error?.code, .backendCredentialsRejected)
        XCTAssertEqual(
            error?.message, "The HR system rejected the broker's credentials; an administrator must check backends.hr.credentials.")
        XCTAssertEqual(error?.backend, "hr")
        let health = await backend.checkHealth(context: HRTest.context())
        XCTAssertFalse(health.healthy)
        XCTAssertEqual(health.reason, "The HR system rejected the broker's credentials (check backends.hr.credentials)")

        // Rotation: the reference is resolved at each use, so fixing the secret fixes the backend without a restart.
        setenv("TEST_HR_WRONG_KEY", HRTest.key, 1)
        let page = try await HRTest.call(backend, "search_employees", ["page_size": 1])
        XCTAssertEqual(page["total"]?.intValue, 5000)
        let healthy = await backend.checkHealth(context: HRTest.context())
        XCTAssertTrue(healthy.healthy)
    }

    func testMissingSecretMakesHealthUnhealthy() async throws {
        setenv("TEST_HR_VANISHING_KEY", HRTest.key, 1)
        let backend = try HRTest.make(HRTest.yaml(apiKey: "env:TEST_HR_VANISHING_KEY"))
        unsetenv("TEST_HR_VANISHING_KEY")
        let health = await backend.checkHealth(context: HRTest.context())
        XCTAssertFalse(health.healthy)
        XCTAssertEqual(health.reason, "credential env:TEST_HR_VANISHING_KEY is not available")
        let error = await HRTest.callError(backend, "list_departments")
        XCTAssertEqual(error?.code, .backendCredentialsRejected)
    }

    func testOutageIsUnavailableAndRetriable() async throws {
        let backend = try HRTest.make(HRTest.yaml(outage: true))
        let error = await HRTest.callError(backend, "get_employee", ["employee_id": "21000001"])
        XCTAssertEqual(error?.code, .backendUnavailable)
        XCTAssertEqual(error?.isRetriable, true)
        XCTAssertEqual(error?.backend, "hr")
        let health = await backend.checkHealth(context: HRTest.context())
        XCTAssertFalse(health.healthy)
        XCTAssertEqual(health.reason, "The HR system is not responding")

        // The outage can end at runtime.
        backend.system.faultPlan.setOutage(false)
        let healthy = await backend.checkHealth(context: HRTest.context())
        XCTAssertTrue(healthy.healthy)
        let page = try await HRTest.call(backend, "search_employees", ["page_size": 1])
        XCTAssertEqual(page["total"]?.intValue, 5000)
    }

    func testFaultRateAndLatency() async throws {
        let failing = try HRTest.make(HRTest.yaml(employees: 100, extraSystem: ", fault_rate: 1.0"))
        let error = await HRTest.callError(failing, "list_departments")
        XCTAssertEqual(error?.code, .backendUnavailable)
        XCTAssertEqual(error?.isRetriable, true)

        let slow = try HRTest.make(HRTest.yaml(employees: 100, extraSystem: ", latency_ms: 150"))
        let started = ContinuousClock.now
        _ = try await HRTest.call(slow, "list_departments")
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(150))
    }

    func testNormalizedOutputsCarryNoNativeFieldsNorCompensation() async throws {
        let backend = try HRTest.make()
        var outputs: [JSONValue] = []
        let page = try await HRTest.call(backend, "search_employees", ["page_size": 50])
        outputs.append(page)
        let id = try XCTUnwrap(HRTest.ids(page).dropFirst(10).first)
        outputs.append(try await HRTest.call(backend, "get_employee", ["employee_id": .string(id)]))
        outputs.append(try await HRTest.call(backend, "get_org_chart", ["employee_id": "21000001", "depth": 2]))
        outputs.append(try await HRTest.call(backend, "list_departments"))
        outputs.append(try await HRTest.call(backend, "get_leave_balance", ["employee_id": .string(id)]))
        for output in outputs {
            for key in HRTest.keys(output) {
                XCTAssertEqual(key, key.lowercased(), "native-looking key \(key)")
                XCTAssertFalse(["compensation", "base_salary_annual", "pay_grade", "currency"].contains(key), "compensation leaked: \(key)")
            }
            for native in ["Worker_ID", "Report_Entry", "Leave_of_Absence", "Full_time", "Annual_Leave", "Legal_Name_Data"] {
                XCTAssertFalse(output.jsonText.contains(native), "native text \(native) leaked")
            }
        }
        let first = try XCTUnwrap(page["items"]?.arrayValue?.first)
        XCTAssertEqual(
            Set(first.objectValue?.keys.map { $0 } ?? []),
            [
                "employee_id", "first_name", "last_name", "full_name", "email", "title", "department", "organization_id",
                "organization_name", "manager_id", "management_level", "location", "country", "status", "employment_type", "hire_date",
            ])
        XCTAssertTrue(["active", "on_leave", "terminated"].contains(first["status"]?.stringValue ?? ""))
    }

    func testPaginationWalksPagesAndRejectsForeignCursors() async throws {
        let backend = try HRTest.make()
        var seen: [String] = []
        var cursor: JSONValue = .null
        var firstCursor = ""
        for pageNumber in 0..<3 {
            var args: [String: JSONValue] = ["department": "Sales", "page_size": 10]
            if let c = cursor.stringValue { args["cursor"] = .string(c) }
            let page = try await HRTest.call(backend, "search_employees", args)
            XCTAssertEqual(HRTest.ids(page).count, 10)
            seen += HRTest.ids(page)
            cursor = page["next_cursor"] ?? .null
            XCTAssertNotNil(cursor.stringValue, "page \(pageNumber) has a next cursor")
            if pageNumber == 0 { firstCursor = cursor.stringValue ?? "" }
        }
        XCTAssertEqual(Set(seen).count, 30, "no duplicates across pages")
        let expected = "The cursor is not valid for this search; start again without a cursor."
        let foreign = await HRTest.callError(
            backend, "search_employees", ["department": "Sales", "page_size": 10, "cursor": .string(firstCursor)], tenant: "globex")
        XCTAssertEqual(foreign?.code, .invalidArguments)
        XCTAssertEqual(foreign?.message, expected)
        let otherFilter = await HRTest.callError(backend, "search_employees", ["department": "Legal", "cursor": .string(firstCursor)])
        XCTAssertEqual(otherFilter?.message, expected)
        let garbage = await HRTest.callError(backend, "search_employees", ["cursor": "not a cursor!"])
        XCTAssertEqual(garbage?.code, .invalidArguments)

        let last = try await HRTest.call(backend, "search_employees", ["department": "Executive"])
        XCTAssertEqual(last["total"]?.intValue, 1)
        XCTAssertEqual(last["next_cursor"], .null)
    }

    func testSearchFilters() async throws {
        let backend = try HRTest.make()
        let london = try await HRTest.call(backend, "search_employees", ["location": "london", "status": "active", "page_size": 100])
        XCTAssertGreaterThan(london["total"]?.intValue ?? 0, 100)
        for item in london["items"]?.arrayValue ?? [] {
            XCTAssertEqual(item["location"], "London")
            XCTAssertEqual(item["country"], "GB")
            XCTAssertEqual(item["status"], "active")
        }
        let someone = try XCTUnwrap(london["items"]?.arrayValue?.first)
        let lastName = try XCTUnwrap(someone["last_name"]?.stringValue)
        let byName = try await HRTest.call(backend, "search_employees", ["name": .string(lastName.uppercased()), "page_size": 100])
        XCTAssertTrue(HRTest.ids(byName).contains(someone["employee_id"]?.stringValue ?? "-"))
        let ceoTeam = try await HRTest.call(backend, "search_employees", ["manager_id": "21000001", "page_size": 100])
        XCTAssertEqual(ceoTeam["total"]?.intValue, 12)
        let titled = try await HRTest.call(backend, "search_employees", ["title": "engineer", "department": "Engineering"])
        for item in titled["items"]?.arrayValue ?? [] { XCTAssertTrue(item["title"]?.stringValue?.lowercased().contains("engineer") ?? false) }
    }
}
