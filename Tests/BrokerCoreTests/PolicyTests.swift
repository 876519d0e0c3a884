// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore
import XCTest

/// The policy as a pure value: globs, role grants with deny-wins, ABAC on principal attributes and arguments,
/// and load-time validation of every name against the catalogue.
final class PolicyTests: XCTestCase {
    static let yaml = """
        policy:
          roles:
            analyst: { tools: ["a__*"], deny_tools: ["a__crash"], resources: ["broker://a/*"], prompts: ["a__brief"] }
            manager: { tools: ["b__*"] }
            hr: { tools: ["b__echo"] }
            "*": { tools: ["a__echo"] }
          rules:
            - id: emea-only
              tools: ["a__slow"]
              when: { roles: [regional] }
              require:
                - { argument: steps, equals_attribute: max_steps }
            - id: fail-needs-hr
              tools: ["b__fail"]
              require: [ { role: hr } ]
            - id: limited-steps
              tools: ["b__slow"]
              require: [ { argument: steps, in: [1, 2] } ]
              message: Only one or two steps.
          tools:
            b__fail: { confirm: true, destructive: true }
        """

    func policy() throws -> Policy { try BrokerConfiguration.parse(yaml: Self.yaml).server.policy }

    func testGlobMatchesWholeNames() {
        XCTAssertTrue(Glob("hr__*").matches("hr__get_employee"))
        XCTAssertFalse(Glob("hr__*").matches("xhr__get"))
        XCTAssertTrue(Glob("*__list_*").matches("erp__list_cost_centers"))
        XCTAssertFalse(Glob("*__list_*").matches("erp__get"))
        XCTAssertTrue(Glob("a*b*c").matches("abc"))
        XCTAssertFalse(Glob("a*bc*c").matches("abc"))
        XCTAssertTrue(Glob("exact").matches("exact"))
        XCTAssertFalse(Glob("exact").matches("exactly"))
        XCTAssertTrue(Glob("*").matches(""))
    }

    func testDefaultDenyAndDenyWins() throws {
        let p = try policy()
        let nobody = Principal(id: "x", tenant: "t")
        XCTAssertEqual(p.visibility(of: "a__fail", for: nobody), .hidden(rule: "default-deny"))
        XCTAssertEqual(p.visibility(of: "a__echo", for: nobody), .allow(rule: "role:*"))
        let analyst = Principal(id: "x", tenant: "t", roles: ["analyst"])
        XCTAssertEqual(p.visibility(of: "a__fail", for: analyst), .allow(rule: "role:analyst"))
        XCTAssertEqual(p.visibility(of: "a__crash", for: analyst), .hidden(rule: "role:analyst:deny"))
        XCTAssertEqual(Policy.denyAll.visibility(of: "a__echo", for: analyst), .hidden(rule: "default-deny"))
    }

    func testPrincipalRulesHideAndArgumentRulesDeny() throws {
        let p = try policy()
        let manager = Principal(id: "m", tenant: "t", roles: ["manager"])
        XCTAssertEqual(p.visibility(of: "b__fail", for: manager), .hidden(rule: "fail-needs-hr"))
        let hrManager = Principal(id: "m", tenant: "t", roles: ["manager", "hr"])
        XCTAssertEqual(p.visibility(of: "b__fail", for: hrManager), .allow(rule: "role:manager"))
        XCTAssertEqual(p.decide(tool: "b__slow", principal: manager, arguments: ["steps": 2]), .allow(rule: "role:manager"))
        XCTAssertEqual(p.decide(tool: "b__slow", principal: manager, arguments: ["steps": 5]), .deny(rule: "limited-steps", message: "Only one or two steps."))
        XCTAssertEqual(p.decide(tool: "b__slow", principal: manager, arguments: [:]).rule, "limited-steps")
    }

    func testArgumentMustEqualPrincipalAttribute() throws {
        let p = try policy()
        let regional = Principal(id: "r", tenant: "t", roles: ["analyst", "regional"], attributes: ["max_steps": "3"])
        XCTAssertEqual(p.decide(tool: "a__slow", principal: regional, arguments: ["steps": "3"]), .allow(rule: "role:analyst"))
        guard case .deny(let rule, let message) = p.decide(tool: "a__slow", principal: regional, arguments: ["steps": "4"]) else {
            return XCTFail("expected a denial")
        }
        XCTAssertEqual(rule, "emea-only")
        XCTAssertTrue(message.contains("'3'"), message)
        // A principal without the attribute can never satisfy the rule.
        let noAttribute = Principal(id: "r", tenant: "t", roles: ["analyst", "regional"])
        XCTAssertEqual(p.decide(tool: "a__slow", principal: noAttribute, arguments: ["steps": "3"]).rule, "emea-only")
        // The rule applies only to the roles it names.
        let plain = Principal(id: "r", tenant: "t", roles: ["analyst"])
        XCTAssertEqual(p.decide(tool: "a__slow", principal: plain, arguments: ["steps": "9"]), .allow(rule: "role:analyst"))
    }

    func testResourcesAndPrompts() throws {
        let p = try policy()
        let analyst = Principal(id: "x", tenant: "t", roles: ["analyst"])
        XCTAssertTrue(p.mayRead(resource: "broker://a/ref/codes", principal: analyst))
        XCTAssertFalse(p.mayRead(resource: "broker://b/ref/codes", principal: analyst))
        XCTAssertTrue(p.mayGet(prompt: "a__brief", principal: analyst))
        XCTAssertFalse(p.mayGet(prompt: "b__brief", principal: analyst))
    }

    func testValidationRefusesNamesThatMatchNothing() throws {
        let catalog = try Catalog(backends: [TestBackend(name: "a"), TestBackend(name: "b")], separator: "__")
        XCTAssertNoThrow(try policy().validate(against: catalog, file: "p.yaml"))
        func reason(_ yaml: String) -> String {
            do {
                try BrokerConfiguration.parse(yaml: yaml).server.policy.validate(against: catalog, file: "p.yaml")
                return "accepted"
            } catch { return error.description }
        }
        XCTAssertTrue(reason("policy: { roles: { r: { tools: [\"c__*\"] } } }").contains("policy.roles.r.tools: 'c__*' matches nothing"))
        XCTAssertTrue(reason("policy: { tools: { a__nope: { confirm: true } } }").contains("policy.tools.a__nope: no such tool"))
        XCTAssertTrue(
            reason("policy: { rules: [ { id: x, tools: [a__echo], require: [ { argument: region, in: [EMEA] } ] } ] }")
                .contains("tool a__echo has no argument 'region'"))
    }

    func testShapeErrorsAtLoad() {
        func reason(_ yaml: String) -> String {
            do {
                _ = try BrokerConfiguration.parse(yaml: yaml, file: "p.yaml")
                return "accepted"
            } catch { return error.description }
        }
        XCTAssertTrue(reason("policy: { roles: { r: { tool: [x] } } }").contains("policy.roles.r.tool: unknown key"))
        XCTAssertTrue(reason("policy: { rules: [ { id: x, tools: [a], require: [] } ] }").contains("needs at least one requirement"))
        XCTAssertTrue(reason("policy: { rules: [ { id: x, tools: [a], require: [ { argument: y } ] } ] }").contains("equals_attribute"))
        XCTAssertTrue(
            reason("policy: { rules: [ { id: x, tools: [a], require: [ { role: r } ] }, { id: x, tools: [a], require: [ { role: r } ] } ] }")
                .contains("used twice"))
    }

    func testAuthSettingsRefuseUnsafeChoices() {
        func reason(_ auth: String) -> String {
            do {
                _ = try BrokerConfiguration.parse(yaml: "server: { http: { auth: \(auth) } }", file: "p.yaml")
                return "accepted"
            } catch { return error.description }
        }
        let hash = "sha256:" + String(repeating: "ab", count: 32)
        XCTAssertEqual(reason("{ resource: \"http://127.0.0.1:8080/mcp\", api_keys: [ { id: bot, tenant: acme, hash: \"\(hash)\" } ] }"), "accepted")
        XCTAssertTrue(reason("{ resource: \"http://127.0.0.1/mcp\", api_keys: [ { id: bot, tenant: acme, hash: \"plain\" } ] }").contains("sha256:"))
        XCTAssertTrue(reason("{ resource: \"http://127.0.0.1/mcp\" }").contains("nobody could call"))
        XCTAssertTrue(
            reason("{ resource: \"http://h/mcp\", jwt: { issuer: i, jwks_file: /x, algorithms: [HS256] } }").contains("never none or HMAC"))
        XCTAssertTrue(reason("{ resource: \"http://h/mcp\", jwt: { issuer: i, algorithms: [RS256] } }").contains("exactly one of jwks_file or jwks_url"))
        XCTAssertTrue(reason("{ resource: \"not a uri\", jwt: { issuer: i, jwks_file: /x } }").contains("absolute http(s) URI"))
        // Without auth, only loopback may be bound.
        XCTAssertTrue(
            (try? BrokerConfiguration.parse(yaml: "server: { http: { host: 0.0.0.0 } }")) == nil, "an unauthenticated public bind must be refused")
    }
}
