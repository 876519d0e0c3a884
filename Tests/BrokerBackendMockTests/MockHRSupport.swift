// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
import Synchronization
import XCTest

@testable import BrokerBackendMockHR

/// Builds mock-hr backends the way the broker does, and calls them.
enum HRTest {
    static let key = "hr-test-api-key-1"

    /// Sets the environment variables the fixtures reference.
    static func prepareEnvironment() {
        setenv("TEST_HR_API_KEY", key, 1)
        setenv("TEST_HR_SYSTEM_API_KEY", key, 1)
    }

    static func yaml(
        apiKey: String = "env:TEST_HR_API_KEY", seed: Int = 42, employees: Int? = nil, outage: Bool = false, extraSystem: String = ""
    ) -> String {
        let size = employees.map { ", employees: \($0)" } ?? ""
        return """
            kind: mock-hr
            description: "Group HR (simulated)"
            credentials: { api_key: \(apiKey) }
            system: { seed: \(seed), tenants: [acme, globex], api_key: env:TEST_HR_SYSTEM_API_KEY, outage: \(outage)\(size)\(extraSystem) }
            """
    }

    static func make(_ yaml: String = HRTest.yaml(), name: String = "hr") throws -> MockHRBackend {
        prepareEnvironment()
        let settings = try ConfigNode.parse(yaml: yaml, file: "test.yaml")
        let backend = try MockHR.kind.make(BackendSetup(name: name, settings: settings, logger: Logger(label: "test")))
        guard let hr = backend as? MockHRBackend else { throw XCTSkip("mock-hr did not build a MockHRBackend") }
        return hr
    }

    static func context(tenant: String = "acme", recorder: HRRecorder? = nil, deadline: Duration = .seconds(60)) -> CallContext {
        var progress: (@Sendable (Double, Double?, String?) async -> Void)?
        var log: (@Sendable (LogLevel, String, JSONValue) async -> Void)?
        if let recorder {
            progress = { v, t, m in recorder.progress(v, t, m) }
            log = { level, logger, data in recorder.log(level, logger, data) }
        }
        return CallContext(
            principal: Principal(id: "u1", tenant: tenant), correlationID: "t", deadline: .now + deadline, logger: Logger(label: "t"),
            notifier: ClientNotifier(progress: progress, log: log))
    }

    /// Calls a tool after checking the arguments against its input schema (as the broker does) and checks the
    /// structured result against the declared output schema.
    static func call(
        _ backend: MockHRBackend, _ tool: String, _ arguments: [String: JSONValue] = [:], tenant: String = "acme",
        recorder: HRRecorder? = nil, file: StaticString = #filePath, line: UInt = #line
    ) async throws -> JSONValue {
        guard let def = backend.tools.first(where: { $0.name == tool }) else {
            XCTFail("no tool \(tool)", file: file, line: line)
            return .null
        }
        let inputViolations = try CompiledSchema(def.inputSchema).validate(.object(arguments))
        XCTAssertEqual(inputViolations, [], "arguments rejected by \(tool)'s input schema", file: file, line: line)
        let output = try await backend.callTool(tool, arguments: arguments, context: context(tenant: tenant, recorder: recorder))
        let structured = output.structured ?? .null
        XCTAssertNotNil(structured.objectValue, "\(tool) returned no object", file: file, line: line)
        XCTAssertFalse((output.text ?? "").isEmpty, "\(tool) returned no text", file: file, line: line)
        if let schema = def.outputSchema {
            let violations = try CompiledSchema(schema).validate(structured)
            XCTAssertEqual(violations, [], "\(tool) output does not match its outputSchema", file: file, line: line)
        }
        return structured
    }

    /// The BrokerError a call throws, or a failure when it succeeds or throws something else.
    static func callError(
        _ backend: MockHRBackend, _ tool: String, _ arguments: [String: JSONValue] = [:], tenant: String = "acme",
        file: StaticString = #filePath, line: UInt = #line
    ) async -> BrokerError? {
        do {
            _ = try await backend.callTool(tool, arguments: arguments, context: context(tenant: tenant))
            XCTFail("\(tool) succeeded but was expected to fail", file: file, line: line)
        } catch let error as BrokerError {
            return error
        } catch {
            XCTFail("\(tool) threw a non-BrokerError: \(error)", file: file, line: line)
        }
        return nil
    }

    /// Every object key in a JSON tree.
    static func keys(_ value: JSONValue) -> Set<String> {
        switch value {
        case .object(let o): return o.reduce(into: Set(o.keys)) { $0.formUnion(keys($1.value)) }
        case .array(let a): return a.reduce(into: Set<String>()) { $0.formUnion(keys($1)) }
        default: return []
        }
    }

    /// IDs of the items of a search result.
    static func ids(_ page: JSONValue) -> [String] {
        (page["items"]?.arrayValue ?? []).compactMap { $0["employee_id"]?.stringValue }
    }

    /// Weekday dates far from any generated request, so writes in different tests do not collide.
    static func futureWeek(_ weekIndex: Int) -> (start: String, end: String) {
        // 2027-03-01 is a Monday; weeks step by 7 days from there.
        let monday = HRCalendar.day(year: 2027, month: 3, day: 1) + Int32(7 * weekIndex)
        return (HRCalendar.format(monday), HRCalendar.format(monday + 4))
    }
}

/// Captures progress and log notifications.
final class HRRecorder: Sendable {
    private let state = Mutex<(progress: [(value: Double, total: Double?)], logs: [JSONValue])>(([], []))

    func progress(_ value: Double, _ total: Double?, _ message: String?) { state.withLock { $0.progress.append((value, total)) } }
    func log(_ level: LogLevel, _ logger: String, _ data: JSONValue) { state.withLock { $0.logs.append(data) } }

    var progressValues: [(value: Double, total: Double?)] { state.withLock { $0.progress } }
    var logs: [JSONValue] { state.withLock { $0.logs } }
}
