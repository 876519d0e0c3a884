// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
import XCTest

@testable import BrokerBackendMockHR

/// Tool declarations, resources, prompts and configuration of the mock HR backend.
final class MockHRCatalogTests: XCTestCase {
    func testToolsAreDeclaredForTheBroker() throws {
        let backend = try HRTest.make(name: String(repeating: "h", count: 32))
        XCTAssertEqual(
            backend.tools.map(\.name),
            ["search_employees", "get_employee", "get_org_chart", "list_departments", "get_leave_balance", "get_compensation", "request_leave", "headcount_report"])
        // The catalogue compiles every input schema and checks the namespaced names (≤ 64 with a 32-char backend name).
        let catalog = try Catalog(backends: [backend], separator: "__")
        XCTAssertEqual(catalog.tools.count, 8)
        for def in backend.tools {
            XCTAssertLessThanOrEqual(def.name.count, 30)
            XCTAssertEqual(def.inputSchema["additionalProperties"], false)
            XCTAssertEqual(def.outputSchema?["type"], "object")
            XCTAssertNoThrow(try CompiledSchema(def.outputSchema ?? .null), def.name)
            XCTAssertTrue(def.description.hasSuffix("System: Group HR (simulated)"), def.name)
            if def.name == "request_leave" {
                XCTAssertFalse(def.annotations.readOnlyHint)
                XCTAssertTrue(def.annotations.idempotentHint)
                XCTAssertFalse(def.annotations.destructiveHint)
                XCTAssertTrue(def.inputSchema["required"]?.arrayValue?.contains("idempotency_key") ?? false)
            } else {
                XCTAssertTrue(def.annotations.readOnlyHint, def.name)
            }
        }
        let search = try XCTUnwrap(backend.tools.first { $0.name == "search_employees" })
        let validator = try CompiledSchema(search.inputSchema)
        XCTAssertFalse(validator.validate(["page_size": 101]).isEmpty)
        XCTAssertFalse(validator.validate(["department": "Astrology"]).isEmpty)
        XCTAssertFalse(validator.validate(["surprise": true]).isEmpty)
        let request = try CompiledSchema(try XCTUnwrap(backend.tools.first { $0.name == "request_leave" }).inputSchema)
        XCTAssertFalse(
            request.validate([
                "employee_id": "21000001", "leave_type": "annual", "start_date": "2027-01-04", "end_date": "2027-01-05", "idempotency_key": "short",
            ]).isEmpty)
    }

    func testResources() async throws {
        let backend = try HRTest.make()
        let context = HRTest.context()
        XCTAssertEqual(
            backend.resources.map(\.uri),
            ["broker://hr/reference/departments", "broker://hr/reference/leave-types", "broker://hr/reference/locations", "broker://hr/schemas/employee"])
        XCTAssertEqual(backend.resourceTemplates.map(\.uriTemplate), ["broker://hr/employees/{employee_id}"])
        var documents: [String: JSONValue] = [:]
        for resource in backend.resources {
            let contents = try await backend.readResource(uri: resource.uri, context: context)
            XCTAssertEqual(contents.count, 1)
            XCTAssertEqual(contents.first?.mimeType, "application/json")
            documents[resource.uri] = try JSONParser.parse(Array((contents.first?.text ?? "").utf8))
        }
        XCTAssertEqual(documents["broker://hr/reference/departments"]?["departments"]?.arrayValue?.count, 13)
        let leaveTypes = documents["broker://hr/reference/leave-types"]?["leave_types"]?.arrayValue ?? []
        XCTAssertEqual(leaveTypes.compactMap { $0["leave_type"]?.stringValue }, ["annual", "sick", "parental", "unpaid"])
        XCTAssertEqual(leaveTypes.first?["balance_checked"], true)
        let locations = documents["broker://hr/reference/locations"]?["locations"]?.arrayValue ?? []
        XCTAssertEqual(locations.count, 8)
        XCTAssertTrue(locations.contains { $0["name"] == "Bangalore" && $0["country"] == "IN" && $0["currency"] == "INR" })
        XCTAssertEqual(documents["broker://hr/schemas/employee"]?["properties"]?["manager_id"]?["type"], ["string", "null"])
        for document in documents.values {
            for key in HRTest.keys(document) where !key.hasPrefix("$") { XCTAssertEqual(key, key.lowercased(), "native key \(key)") }
        }

        let viaTemplate = try await backend.readResource(uri: "broker://hr/employees/21000001", context: context)
        let employee = try JSONParser.parse(Array((viaTemplate.first?.text ?? "").utf8))
        let viaTool = try await HRTest.call(backend, "get_employee", ["employee_id": "21000001"])
        XCTAssertEqual(employee, viaTool)
        do {
            _ = try await backend.readResource(uri: "broker://hr/employees/29999999", context: context)
            XCTFail("unknown employee")
        } catch let error as BrokerError {
            XCTAssertEqual(error.code, .notFound)
            XCTAssertEqual(error.message, "Employee 29999999 not found.")
        }
        do {
            _ = try await backend.readResource(uri: "broker://hr/reference/nothing", context: context)
            XCTFail("unknown resource")
        } catch let error as BrokerError {
            XCTAssertEqual(error.code, .notFound)
        }
    }

    func testPrompts() async throws {
        let backend = try HRTest.make()
        let context = HRTest.context()
        XCTAssertEqual(backend.prompts.map(\.name), ["team_overview", "leave_planning"])
        XCTAssertEqual(backend.prompts.first?.arguments.first?.required, true)
        let team = try await backend.getPrompt("team_overview", arguments: ["manager_id": "21000001"], context: context)
        guard case .text(let teamText)? = team.messages.first?.content else { return XCTFail("no text message") }
        XCTAssertEqual(team.messages.first?.role, .user)
        XCTAssertTrue(teamText.contains("hr__get_org_chart"))
        XCTAssertTrue(teamText.contains("hr__get_leave_balance"))
        XCTAssertTrue(teamText.contains("21000001"))
        let planning = try await backend.getPrompt("leave_planning", arguments: ["department": "engineering", "month": "2026-08"], context: context)
        guard case .text(let planText)? = planning.messages.first?.content else { return XCTFail("no text message") }
        XCTAssertTrue(planText.contains("Engineering"))
        XCTAssertTrue(planText.contains("2026-08"))
        XCTAssertTrue(planText.contains("hr__search_employees"))
        for (prompt, args) in [
            ("team_overview", ["manager_id": "boss"]), ("leave_planning", ["department": "Astrology"]),
            ("leave_planning", ["department": "HR", "month": "August"]),
        ] {
            do {
                _ = try await backend.getPrompt(prompt, arguments: args, context: context)
                XCTFail("\(prompt) accepted \(args)")
            } catch let error as BrokerError {
                XCTAssertEqual(error.code, .invalidArguments)
            }
        }
    }

    private func configError(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        HRTest.prepareEnvironment()
        do {
            let settings = try ConfigNode.parse(yaml: yaml, file: "test.yaml")
            _ = try MockHR.kind.make(BackendSetup(name: "hr", settings: settings, logger: Logger(label: "test")))
            XCTFail("configuration accepted", file: file, line: line)
            return ""
        } catch {
            return String(describing: error)
        }
    }

    func testConfigurationIsStrict() {
        let inline = configError(
            """
            credentials: { api_key: hunter2 }
            system: { tenants: [acme], api_key: env:TEST_HR_SYSTEM_API_KEY }
            """)
        XCTAssertTrue(inline.contains("credentials.api_key"), inline)
        XCTAssertTrue(inline.contains("inline secrets are refused"), inline)
        XCTAssertFalse(inline.contains("hunter2"), inline)

        let unknown = configError(
            """
            credentials: { api_key: env:TEST_HR_API_KEY }
            system: { tenants: [acme], api_key: env:TEST_HR_SYSTEM_API_KEY, latncy_ms: 5 }
            """)
        XCTAssertTrue(unknown.contains("system.latncy_ms"), unknown)
        XCTAssertTrue(unknown.contains("unknown key"), unknown)

        let topLevel = configError(
            """
            credentials: { api_key: env:TEST_HR_API_KEY }
            system: { tenants: [acme], api_key: env:TEST_HR_SYSTEM_API_KEY }
            colour: blue
            """)
        XCTAssertTrue(topLevel.contains("colour"), topLevel)

        let noTenants = configError(
            """
            credentials: { api_key: env:TEST_HR_API_KEY }
            system: { tenants: [], api_key: env:TEST_HR_SYSTEM_API_KEY }
            """)
        XCTAssertTrue(noTenants.contains("system.tenants"), noTenants)

        let tooSmall = configError(
            """
            credentials: { api_key: env:TEST_HR_API_KEY }
            system: { tenants: [acme], api_key: env:TEST_HR_SYSTEM_API_KEY, employees: 3 }
            """)
        XCTAssertTrue(tooSmall.contains("system.employees"), tooSmall)

        let missingSecret = configError(
            """
            credentials: { api_key: env:TEST_HR_NEVER_SET_ANYWHERE }
            system: { tenants: [acme], api_key: env:TEST_HR_SYSTEM_API_KEY }
            """)
        XCTAssertTrue(missingSecret.contains("credentials.api_key"), missingSecret)

        let badRate = configError(
            """
            credentials: { api_key: env:TEST_HR_API_KEY }
            system: { tenants: [acme], api_key: env:TEST_HR_SYSTEM_API_KEY, fault_rate: 2 }
            """)
        XCTAssertTrue(badRate.contains("system.fault_rate"), badRate)
    }

    func testSystemSpeaksItsOwnWireFormat() async throws {
        let backend = try HRTest.make()
        let system = backend.system
        let headers = ["X-API-Key": HRTest.key, "X-Client-Id": "probe@acme"]
        let ok = await system.handle(HRNativeRequest(method: .get, path: "/ccx/api/v1/acme/workers/21000001", headers: headers))
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(ok.body["Worker"]?["Worker_ID"], "21000001")
        XCTAssertNotNil(ok.body["Worker"]?["Compensation"]?["Base_Pay_Annual"]?.doubleValue)
        let wrongKey = await system.handle(
            HRNativeRequest(method: .get, path: "/ccx/api/v1/acme/workers", headers: ["X-API-Key": "nope", "X-Client-Id": "probe@acme"]))
        XCTAssertEqual(wrongKey.status, 401)
        XCTAssertEqual(wrongKey.body["errors"]?.arrayValue?.first?["code"], "UNAUTHORIZED")
        let otherTenantClient = await system.handle(
            HRNativeRequest(method: .get, path: "/ccx/api/v1/acme/workers", headers: ["X-API-Key": HRTest.key, "X-Client-Id": "probe@globex"]))
        XCTAssertEqual(otherTenantClient.status, 401)
        let missing = await system.handle(HRNativeRequest(method: .get, path: "/ccx/api/v1/acme/workers/21099999", headers: headers))
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(
            missing.body["errors"]?.arrayValue?.first?["error"],
            "Invalid ID value. '21099999' is not a valid ID value for type = Employee_ID")
        let page = await system.handle(HRNativeRequest(method: .get, path: "/ccx/api/v1/acme/workers", query: ["limit": 5, "offset": 10], headers: headers))
        XCTAssertEqual(page.body["Total"], 5000)
        XCTAssertEqual(page.body["Offset"], 10)
        XCTAssertEqual(page.body["Report_Entry"]?.arrayValue?.count, 5)
        XCTAssertEqual(page.body["Report_Entry"]?.arrayValue?.first?["Worker_ID"], "21000011")
    }
}
