// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import Logging
import MCPCore
import Synchronization
import XCTest

@testable import BrokerBackendMockERP

/// Builds mock-erp backends the way the broker does, and calls them.
enum ERPTest {
    static let password = "erp-test-password-1"

    /// Sets the environment variables the fixtures reference.
    static func prepareEnvironment() {
        setenv("TEST_ERP_PASSWORD", password, 1)
        setenv("TEST_ERP_SYSTEM_PASSWORD", password, 1)
    }

    /// Small partitions keep most tests fast; the full-size test uses the defaults.
    static let smallSizes = "purchase_orders: 3000, suppliers: 200, invoices: 1500, materials: 300"

    static func yaml(
        clientPassword: String = "env:TEST_ERP_PASSWORD", sizes: String? = smallSizes, seed: Int = 42, outage: Bool = false,
        extraSystem: String = ""
    ) -> String {
        let sizeText = sizes.map { ", \($0)" } ?? ""
        return """
            kind: mock-erp
            description: "Procurement ERP (simulated)"
            credentials: { client: "100", user: BROKER_SVC, password: \(clientPassword) }
            system: { seed: \(seed), tenants: [acme, globex], client: "100", user: BROKER_SVC, password: env:TEST_ERP_SYSTEM_PASSWORD, outage: \(outage)\(sizeText)\(extraSystem) }
            """
    }

    static func make(_ yaml: String, name: String = "erp") throws -> any Backend {
        prepareEnvironment()
        let settings = try ConfigNode.parse(yaml: yaml, file: "test.yaml")
        return try MockERP.kind.make(BackendSetup(name: name, settings: settings, logger: Logger(label: "test")))
    }

    static func context(tenant: String = "acme", recorder: Recorder? = nil, deadline: Duration = .seconds(60)) -> CallContext {
        var progress: (@Sendable (Double, Double?, String?) async -> Void)?
        var log: (@Sendable (LogLevel, String, JSONValue) async -> Void)?
        if let recorder {
            progress = { v, t, m in recorder.progress(v, t, m) }
            log = { level, logger, data in recorder.log(level, logger, data) }
        }
        let notifier = ClientNotifier(progress: progress, log: log)
        return CallContext(
            principal: Principal(id: "u1", tenant: tenant), correlationID: "t", deadline: .now + deadline, logger: Logger(label: "t"),
            notifier: notifier)
    }

    /// Calls a tool and checks the structured result against the tool's declared output schema.
    static func call(
        _ backend: any Backend, _ tool: String, _ arguments: [String: JSONValue] = [:], tenant: String = "acme", recorder: Recorder? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) async throws -> JSONValue {
        guard let def = backend.tools.first(where: { $0.name == tool }) else {
            XCTFail("no tool \(tool)", file: file, line: line)
            return .null
        }
        let violations = try CompiledSchema(def.inputSchema).validate(.object(arguments))
        XCTAssertTrue(violations.isEmpty, "arguments of \(tool) rejected by its schema: \(violations)", file: file, line: line)
        let output = try await backend.callTool(tool, arguments: arguments, context: context(tenant: tenant, recorder: recorder))
        let structured = output.structured ?? .null
        if let schema = def.outputSchema {
            let problems = try CompiledSchema(schema).validate(structured)
            XCTAssertTrue(problems.isEmpty, "\(tool) output violates its outputSchema: \(problems.prefix(3))", file: file, line: line)
        }
        XCTAssertFalse((output.text ?? "").isEmpty, "\(tool) returned no text summary", file: file, line: line)
        return structured
    }

    /// Runs `body` and returns the `BrokerError` it threw, failing when it threw nothing or something else.
    static func brokerError(
        _ code: BrokerError.Code, file: StaticString = #filePath, line: UInt = #line, _ body: () async throws -> Void
    ) async -> BrokerError? {
        do {
            try await body()
            XCTFail("expected \(code.rawValue), got success", file: file, line: line)
        } catch let error as BrokerError {
            XCTAssertEqual(error.code, code, "unexpected error: \(error)", file: file, line: line)
            return error
        } catch {
            XCTFail("expected BrokerError \(code.rawValue), got \(error)", file: file, line: line)
        }
        return nil
    }

    /// The ids of a page's items under `key`.
    static func ids(_ page: JSONValue, _ key: String) -> [String] {
        (page["items"]?.arrayValue ?? []).compactMap { $0[key]?.stringValue }
    }

    /// Every object key anywhere in `value`.
    static func allKeys(_ value: JSONValue) -> Set<String> {
        switch value {
        case .object(let o): return o.reduce(into: Set(o.keys)) { $0.formUnion(allKeys($1.value)) }
        case .array(let a): return a.reduce(into: Set<String>()) { $0.formUnion(allKeys($1)) }
        default: return []
        }
    }
}

/// Captures progress and log notifications.
final class Recorder: Sendable {
    let progressValues = Mutex<[(value: Double, total: Double?)]>([])
    let logs = Mutex<[JSONValue]>([])

    func progress(_ value: Double, _ total: Double?, _ message: String?) { progressValues.withLock { $0.append((value, total)) } }
    func log(_ level: LogLevel, _ logger: String, _ data: JSONValue) { logs.withLock { $0.append(data) } }
}
