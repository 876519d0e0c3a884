// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// What one role may reach: tool, resource and prompt patterns it grants, and tool patterns it forbids.
public struct RoleGrant: Sendable {
    public var tools: [Glob] = []
    /// Tool patterns this role may never call, whatever another role grants (deny wins).
    public var denyTools: [Glob] = []
    /// Resource URI and template patterns (`broker://warehouse/*`).
    public var resources: [Glob] = []
    /// Full prompt names (`hr__*`).
    public var prompts: [Glob] = []

    public init(tools: [Glob] = [], denyTools: [Glob] = [], resources: [Glob] = [], prompts: [Glob] = []) {
        self.tools = tools
        self.denyTools = denyTools
        self.resources = resources
        self.prompts = prompts
    }
}

/// One requirement of an ABAC rule, on the principal or on a tool argument.
public enum PolicyCondition: Sendable {
    /// The principal has this role.
    case role(String)
    /// The principal's attribute has this value.
    case attribute(String, equals: String)
    /// Top-level argument `name` is present and equals the principal's attribute `attribute`.
    case argumentEqualsAttribute(String, attribute: String)
    /// Top-level argument `name` is present and is one of the values.
    case argumentIn(String, [JSONValue])

    /// Whether the condition reads tool arguments (and so can only be decided at call time).
    var readsArguments: Bool {
        switch self {
        case .role, .attribute: return false
        case .argumentEqualsAttribute, .argumentIn: return true
        }
    }
}

/// An ABAC rule: for the tools it names and the principals it applies to, every requirement must hold.
public struct PolicyRule: Sendable {
    /// Stable id, written in audit lines and denial messages.
    public var id: String
    public var tools: [Glob]
    /// The rule applies to principals with any of these roles (empty: any role).
    public var whenRoles: Set<String> = []
    /// … and with all of these attribute values (empty: any).
    public var whenAttributes: [String: String] = [:]
    public var require: [PolicyCondition]
    /// The sentence shown to the model when the rule refuses a call's arguments.
    public var message: String?

    public init(id: String, tools: [Glob], require: [PolicyCondition]) {
        self.id = id
        self.tools = tools
        self.require = require
    }

    func applies(to principal: Principal, tool: String) -> Bool {
        guard tools.anyMatches(tool) else { return false }
        if !whenRoles.isEmpty && whenRoles.isDisjoint(with: principal.roles) { return false }
        return whenAttributes.allSatisfy { principal.attributes[$0.key] == $0.value }
    }
}

/// Per-tool settings for sensitive actions.
public struct ToolPolicy: Sendable {
    /// Ask the user through MCP elicitation before running the tool.
    public var confirm = false
    /// Show the tool as destructive in `tools/list`, whatever the backend declared.
    public var destructive = false

    public init(confirm: Bool = false, destructive: Bool = false) {
        self.confirm = confirm
        self.destructive = destructive
    }
}

/// The outcome of checking one call.
public enum PolicyDecision: Sendable, Equatable {
    /// Allowed; `rule` names what granted it (`role:<name>`).
    case allow(rule: String)
    /// The principal may not see the tool at all: answered exactly like an unknown tool.
    case hidden(rule: String)
    /// The tool is visible but these arguments are refused by the rule.
    case deny(rule: String, message: String)

    /// The rule recorded in the audit line.
    public var rule: String {
        switch self {
        case .allow(let r), .hidden(let r), .deny(let r, _): return r
        }
    }
}

/// Who may call what: role grants (default deny), ABAC rules over principal attributes and tool arguments,
/// and per-tool confirmation. A pure value, built once from configuration and evaluated on every call.
public struct Policy: Sendable {
    /// Grants by role name; the role `*` applies to every authenticated principal.
    public var roles: [String: RoleGrant] = [:]
    public var rules: [PolicyRule] = []
    /// Per-tool settings by full tool name.
    public var tools: [String: ToolPolicy] = [:]

    public init(roles: [String: RoleGrant] = [:], rules: [PolicyRule] = [], tools: [String: ToolPolicy] = [:]) {
        self.roles = roles
        self.rules = rules
        self.tools = tools
    }

    /// Denies everything: what a configuration without a `policy` section gets.
    public static let denyAll = Policy()

    /// Grants every tool, resource and prompt to everyone (tests and local experiments; say so explicitly).
    public static let allowAll = Policy(roles: ["*": RoleGrant(tools: [Glob("*")], resources: [Glob("*")], prompts: [Glob("*")])])

    func grants(for principal: Principal) -> [(String, RoleGrant)] {
        var out: [(String, RoleGrant)] = []
        if let everyone = roles["*"] { out.append(("*", everyone)) }
        for r in principal.roles.sorted() { if let g = roles[r] { out.append((r, g)) } }
        return out
    }

    /// Whether `principal` may see `tool` at all: a role grants it, none denies it, and no rule's principal
    /// requirements fail. Argument requirements are not checked here: they depend on the call.
    public func visibility(of tool: String, for principal: Principal) -> PolicyDecision {
        let grants = grants(for: principal)
        if let (role, _) = grants.first(where: { $0.1.denyTools.anyMatches(tool) }) { return .hidden(rule: "role:\(role):deny") }
        guard let (role, _) = grants.first(where: { $0.1.tools.anyMatches(tool) }) else { return .hidden(rule: "default-deny") }
        for rule in rules where rule.applies(to: principal, tool: tool) {
            for c in rule.require where !c.readsArguments && !Self.holds(c, principal: principal, arguments: [:]) {
                return .hidden(rule: rule.id)
            }
        }
        return .allow(rule: "role:\(role)")
    }

    /// Decides one call.
    public func decide(tool: String, principal: Principal, arguments: [String: JSONValue]) -> PolicyDecision {
        let visible = visibility(of: tool, for: principal)
        guard case .allow = visible else { return visible }
        return checkArguments(tool: tool, principal: principal, arguments: arguments) ?? visible
    }

    /// The argument rules alone, for a tool already known to be visible: the denial, or `nil` when they pass.
    public func checkArguments(tool: String, principal: Principal, arguments: [String: JSONValue]) -> PolicyDecision? {
        for rule in rules where rule.applies(to: principal, tool: tool) {
            for c in rule.require where c.readsArguments && !Self.holds(c, principal: principal, arguments: arguments) {
                return .deny(rule: rule.id, message: rule.message ?? Self.explain(c, principal: principal))
            }
        }
        return nil
    }

    /// Whether `principal` may list and read a resource URI (or template).
    public func mayRead(resource uri: String, principal: Principal) -> Bool {
        grants(for: principal).contains { $0.1.resources.anyMatches(uri) }
    }

    /// Whether `principal` may list and get a prompt.
    public func mayGet(prompt name: String, principal: Principal) -> Bool {
        grants(for: principal).contains { $0.1.prompts.anyMatches(name) }
    }

    static func holds(_ c: PolicyCondition, principal: Principal, arguments: [String: JSONValue]) -> Bool {
        switch c {
        case .role(let r): return principal.roles.contains(r)
        case .attribute(let a, let v): return principal.attributes[a] == v
        case .argumentEqualsAttribute(let name, let attribute):
            guard let want = principal.attributes[attribute], let got = arguments[name]?.stringValue else { return false }
            return got == want
        case .argumentIn(let name, let values):
            guard let got = arguments[name] else { return false }
            return values.contains(got)
        }
    }

    static func explain(_ c: PolicyCondition, principal: Principal) -> String {
        switch c {
        case .argumentEqualsAttribute(let name, let attribute):
            let want = principal.attributes[attribute].map { "'\($0)'" } ?? "your own \(attribute)"
            return "Your access is limited to \(attribute) \(want): set '\(name)' to \(want)."
        case .argumentIn(let name, let values):
            return "Your access allows '\(name)' only as one of: \(values.map(\.jsonText).joined(separator: ", "))."
        case .role(let r): return "This needs the role '\(r)'."
        case .attribute(let a, let v): return "This needs \(a) = '\(v)'."
        }
    }

    /// Only the attributes the rules read decide visibility, so principals that share roles and these
    /// attribute values see the same lists: the key for caching filtered list pages.
    func visibilityClass(of principal: Principal) -> String {
        var key = principal.roles.sorted().joined(separator: ",")
        for a in attributesRead where principal.attributes[a] != nil {
            key += "|\(a)=\(principal.attributes[a] ?? "")"
        }
        return key
    }

    var attributesRead: [String] {
        var names = Set<String>()
        for rule in rules {
            names.formUnion(rule.whenAttributes.keys)
            for c in rule.require { if case .attribute(let a, _) = c { names.insert(a) } }
        }
        return names.sorted()
    }
}
