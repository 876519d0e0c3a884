// SPDX-License-Identifier: Apache-2.0

@testable import BrokerCore
import Foundation
import Logging
import MCPCore
import Synchronization
import XCTest

/// Hot reload: generations swap, unchanged backends keep their instance and guard, a bad file is refused.
final class ReloadTests: XCTestCase {
    var dir = ""
    var file: String { dir + "/broker.yaml" }
    var auditPath: String { dir + "/audit.jsonl" }
    let logger = Logger(label: "reload-test")

    override func setUp() {
        dir = NSTemporaryDirectory() + "reload-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    var registry: BackendRegistry {
        var r = BackendRegistry()
        r.register(
            BackendKind(name: "test", summary: "in-memory test backend") { setup in
                let count = try setup.settings.int("tool_count", default: 4, range: 4...50)
                _ = try setup.settings.optionalString("label")
                try setup.settings.finish()
                return TestBackend(name: setup.name, toolCount: count)
            })
        return r
    }

    func write(_ backends: String, policy: String = #"roles: { "*": { tools: ["*"], resources: ["*"], prompts: ["*"] } }"#) throws {
        let yaml = """
            server:
              audit: { path: \(auditPath) }
            backends:
            \(backends)
            policy:
              \(policy)
            """
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: file))
    }

    func start() throws -> (LiveBroker, Reloader) {
        let configuration = try BrokerConfiguration.loadChecked(path: file)
        let broker = try Broker(configuration: configuration, registry: registry, logger: logger)
        let watched = WatchedHashes.read(path: file, settings: configuration.server)
        let live = LiveBroker(BrokerGeneration(number: 1, broker: broker, authenticator: nil, configHash: watched.config, watched: watched), logger: logger)
        return (live, Reloader(live: live, path: file, registry: registry, logger: logger))
    }

    func backend(_ live: LiveBroker, _ name: String) -> (any Backend)? { live.current.broker.catalog.backends.first { $0.name == name } }

    func testUnchangedBackendKeepsInstanceAndGuardChangedOneIsRebuilt() async throws {
        try write("  a: { kind: test, tool_count: 5, label: x }\n  b: { kind: test }")
        let (live, reloader) = try start()
        let oldServer = live.current.server
        let oldA = try XCTUnwrap(backend(live, "a") as? TestBackend), oldB = try XCTUnwrap(backend(live, "b") as? TestBackend)
        // `a` rewritten with its keys in another order and quoted differently: the same settings, so unchanged.
        try write("  a:\n    label: \"x\"\n    tool_count: 5\n    kind: test\n  b: { kind: test, tool_count: 6 }\n  c: { kind: test }")
        let outcome = await reloader.reload(trigger: .file)
        XCTAssertTrue(outcome.applied, outcome.error ?? "")
        XCTAssertEqual(live.current.number, 2)
        XCTAssertEqual(live.current.broker.reused, ["a"])
        XCTAssertTrue(try XCTUnwrap(backend(live, "a") as? TestBackend) === oldA)
        XCTAssertTrue(GuardAdoption.sameGuard(oldServer, live.current.server, backend: "a"))
        XCTAssertFalse(try XCTUnwrap(backend(live, "b") as? TestBackend) === oldB)
        XCTAssertFalse(GuardAdoption.sameGuard(oldServer, live.current.server, backend: "b"))
        XCTAssertEqual(live.current.broker.catalog.tools.filter { $0.fullName.hasPrefix("b__") }.count, 6)
        XCTAssertNotNil(backend(live, "c"))
        XCTAssertEqual(live.status.successes, 1)
        XCTAssertNotEqual(outcome.oldHash, outcome.newHash)
        XCTAssertEqual(live.status.activeHash, ConfigDigest.configHash(path: file))
        // The audit log stays one writer and has the applied reload with both hashes.
        XCTAssertTrue(live.current.server.audit === oldServer.audit)
        live.current.server.audit?.flush()
        let lines = try String(contentsOfFile: auditPath, encoding: .utf8).split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
        let reload = try XCTUnwrap(lines.last { $0["event"] == "config_reload" })
        XCTAssertEqual(reload["result"], "applied")
        XCTAssertEqual(reload["trigger"], "file")
        XCTAssertEqual(reload["old_config_sha256"]?.stringValue, outcome.oldHash)
        XCTAssertEqual(reload["new_config_sha256"]?.stringValue, outcome.newHash)
    }

    func testTenantRateStateSurvivesAReloadThatKeepsTheLimit() async throws {
        func write(rate: String, tools: Int) throws {
            let yaml = "server:\n  limits: { tenant_rate: \"\(rate)\" }\nbackends:\n  a: { kind: test, tool_count: \(tools) }\n"
                + "policy:\n  roles: { \"*\": { tools: [\"*\"] } }\n"
            try Data(yaml.utf8).write(to: URL(fileURLWithPath: file))
        }
        let acme = Principal(id: "u", tenant: "acme")
        try write(rate: "1/s burst 2", tools: 4)
        let (live, reloader) = try start()
        let first = try XCTUnwrap(live.current.server.guards.tenantLimiter)
        for _ in 0..<2 {
            let refusal = await live.current.server.guards.checkTenantLimits(tool: "a__t0", principal: acme)
            XCTAssertNil(refusal)
        }
        // Only a backend changed: the spent burst stays spent, so reloading cannot hand a tenant a fresh one.
        try write(rate: "1/s burst 2", tools: 5)
        let applied = await reloader.reload(trigger: .file).applied
        XCTAssertTrue(applied)
        XCTAssertTrue(try XCTUnwrap(live.current.server.guards.tenantLimiter) === first)
        let spent = await live.current.server.guards.checkTenantLimits(tool: "a__t0", principal: acme)
        XCTAssertEqual(spent?.scope, .tenant)
        // A new limit is a new limiter.
        try write(rate: "100/s burst 200", tools: 5)
        let changed = await reloader.reload(trigger: .file).applied
        XCTAssertTrue(changed)
        XCTAssertFalse(try XCTUnwrap(live.current.server.guards.tenantLimiter) === first)
        let fresh = await live.current.server.guards.checkTenantLimits(tool: "a__t0", principal: acme)
        XCTAssertNil(fresh)
    }

    func testRotatedRequestStateKeyFileTriggersAReload() async throws {
        let keyFile = dir + "/state.key"
        try Data(String(repeating: "k", count: 40).utf8).write(to: URL(fileURLWithPath: keyFile))
        let yaml = """
            server:
              audit: { path: \(auditPath) }
              request_state: { key: "file:\(keyFile)", ttl_seconds: 60 }
            backends:
              a: { kind: test }
            policy:
              roles: { "*": { tools: ["*"] } }
            """
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: file))
        let (live, reloader) = try start()
        let first = live.current.watched
        XCTAssertNotNil(first.requestStateKey)
        XCTAssertNil(WatchedHashes.read(path: file, settings: live.current.settings).trigger(comparedTo: first), "nothing changed yet")
        try Data(String(repeating: "r", count: 40).utf8).write(to: URL(fileURLWithPath: keyFile))
        let now = WatchedHashes.read(path: file, settings: live.current.settings)
        XCTAssertEqual(now.trigger(comparedTo: first), .requestStateKeyFile)
        let outcome = await reloader.reload(trigger: .requestStateKeyFile)
        XCTAssertTrue(outcome.applied, outcome.error ?? "")
        XCTAssertEqual(live.current.watched.requestStateKey, now.requestStateKey, "the new generation remembers the rotated key's hash")
        // A key that became too short is refused, and the previous generation keeps serving.
        try Data("short".utf8).write(to: URL(fileURLWithPath: keyFile))
        let before = live.current
        let refused = await reloader.reload(trigger: .requestStateKeyFile)
        XCTAssertFalse(refused.applied)
        XCTAssertTrue(refused.error?.contains("server.request_state.key") ?? false, refused.error ?? "")
        XCTAssertTrue(live.current === before)
    }

    func testRefusedConfigurationLeavesTheOldGenerationServing() async throws {
        try write("  a: { kind: test }")
        let (live, reloader) = try start()
        let before = live.current
        try write("  a: { kind: test, tool_cuont: 5 }")
        let outcome = await reloader.reload(trigger: .signal)
        XCTAssertFalse(outcome.applied)
        XCTAssertTrue(live.current === before)
        let error = try XCTUnwrap(outcome.error)
        XCTAssertTrue(error.hasPrefix(file + ":"), error)
        XCTAssertTrue(error.contains("backends.a.tool_cuont: unknown key"), error)
        XCTAssertEqual(live.status.failures, 1)
        XCTAssertTrue(live.status.lastFailed)
        XCTAssertEqual(live.status.activeHash, before.configHash)
        let readiness = await live.readiness()
        XCTAssertEqual(readiness.json["config"]?["reload"], "failed")
        XCTAssertEqual(readiness.json["config"]?["active_sha256"]?.stringValue, before.configHash)
        before.server.audit?.flush()
        let text = try String(contentsOfFile: auditPath, encoding: .utf8)
        XCTAssertTrue(text.contains(#""result":"refused""#) && text.contains(#""trigger":"signal""#), text)
        // Broken YAML is refused the same way; a good file afterwards clears the failure.
        try Data("backends: [\n".utf8).write(to: URL(fileURLWithPath: file))
        let broken = await reloader.reload(trigger: .file)
        XCTAssertFalse(broken.applied)
        XCTAssertTrue(live.current === before)
        try write("  a: { kind: test, tool_count: 5 }")
        let fixed = await reloader.reload(trigger: .file)
        XCTAssertTrue(fixed.applied, fixed.error ?? "")
        XCTAssertFalse(live.status.lastFailed)
        XCTAssertEqual(live.status.failures, 2)
        XCTAssertEqual(live.status.successes, 1)
    }

    func testInFlightRequestKeepsItsGenerationAndListChangesAreAnnounced() async throws {
        try write("  a: { kind: test }")
        let (live, reloader) = try start()
        let lease = live.begin()
        let changes = Mutex<[ListChange]>([])
        let token = live.hub.subscribe { change in changes.withLock { $0.append(change) } }
        defer { live.hub.unsubscribe(token) }
        try write("  a: { kind: test }\n  b: { kind: test }", policy: #"roles: { "*": { tools: ["a__*", "b__*"] }, viewer: { tools: ["a__echo"] } }"#)
        let outcome = await reloader.reload(trigger: .file)
        XCTAssertTrue(outcome.applied, outcome.error ?? "")
        XCTAssertEqual(lease.generation.number, 1)
        XCTAssertEqual(live.current.number, 2)
        XCTAssertEqual(lease.generation.requestsInFlight, 1)
        lease.end()
        lease.end()
        XCTAssertEqual(lease.generation.requestsInFlight, 0)
        let change = try XCTUnwrap(changes.withLock { $0.first })
        let anyone = Principal(id: "p", tenant: "default")
        // The tools grew for everyone; resources and prompts are no longer granted to anyone.
        XCTAssertEqual(
            change.methods(for: anyone),
            ["notifications/tools/list_changed", "notifications/resources/list_changed", "notifications/prompts/list_changed"])
        // A reload that changes nothing visible announces nothing.
        try write("  a: { kind: test }\n  b: { kind: test, label: renamed }", policy: #"roles: { "*": { tools: ["a__*", "b__*"] }, viewer: { tools: ["a__echo"] } }"#)
        let quiet = await reloader.reload(trigger: .file)
        XCTAssertTrue(quiet.applied)
        let second = try XCTUnwrap(changes.withLock { $0.count == 2 ? $0[1] : nil })
        XCTAssertEqual(second.methods(for: anyone), [])
    }

    func testRestartOnlySettingsAreKept() throws {
        var serving = ServerSettings()
        serving.http.port = 9000
        var next = ServerSettings()
        next.http.port = 9100
        next.pageSize = 7
        let changed = RestartOnlySettings.keep(serving: serving, into: &next)
        XCTAssertEqual(changed, ["server.http.port"])
        XCTAssertEqual(next.http.port, 9000)
        XCTAssertEqual(next.pageSize, 7)
    }

    func testReloadSettingsAreParsedStrictly() throws {
        let c = try BrokerConfiguration.parse(yaml: "server:\n  reload: { watch: false, interval_ms: 500 }\n")
        XCTAssertFalse(c.server.reload.watch)
        XCTAssertEqual(c.server.reload.intervalMilliseconds, 500)
        XCTAssertThrowsError(try BrokerConfiguration.parse(yaml: "server:\n  reload: { wacth: true }\n"))
        XCTAssertThrowsError(try BrokerConfiguration.parse(yaml: "server:\n  reload: { interval_ms: 5 }\n"))
    }
}
