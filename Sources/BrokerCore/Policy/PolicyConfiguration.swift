// SPDX-License-Identifier: Apache-2.0

import MCPCore

extension BrokerConfiguration {
    /// Reads the top-level `policy` section. Shapes are checked here; names are checked against the catalogue
    /// by ``Policy/validate(against:file:)`` once the backends exist.
    static func readPolicy(_ p: ConfigNode) throws(ConfigError) -> Policy {
        var policy = Policy()
        if let roles = try p.section("roles") {
            for name in roles.keys {
                guard let r = try roles.section(name) else { throw roles.error(name, "expected a mapping of tools, deny_tools, resources, prompts") }
                policy.roles[name] = RoleGrant(
                    tools: try r.stringList("tools").map(Glob.init), denyTools: try r.stringList("deny_tools").map(Glob.init),
                    resources: try r.stringList("resources").map(Glob.init), prompts: try r.stringList("prompts").map(Glob.init))
                try r.finish()
            }
            try roles.finish()
        }
        var ids = Set<String>()
        for r in try p.sectionList("rules") {
            let id = try r.string("id")
            guard ids.insert(id).inserted else { throw r.error("id", "rule id '\(id)' is used twice") }
            let tools = try r.stringList("tools").map(Glob.init)
            guard !tools.isEmpty else { throw r.error("tools", "a rule must name the tools it governs") }
            var rule = PolicyRule(id: id, tools: tools, require: [])
            if let w = try r.section("when") {
                rule.whenRoles = Set(try w.stringList("roles"))
                rule.whenAttributes = try stringMap(try w.section("attributes"))
                try w.finish()
            }
            for c in try r.sectionList("require") { rule.require.append(try readCondition(c)) }
            guard !rule.require.isEmpty else { throw r.error("require", "a rule needs at least one requirement") }
            rule.message = try r.optionalString("message")
            try r.finish()
            policy.rules.append(rule)
        }
        if let t = try p.section("tools") {
            for name in t.keys {
                guard let s = try t.section(name) else { throw t.error(name, "expected a mapping with confirm and/or destructive") }
                policy.tools[name] = ToolPolicy(confirm: try s.bool("confirm", default: false), destructive: try s.bool("destructive", default: false))
                try s.finish()
            }
            try t.finish()
        }
        try p.finish()
        return policy
    }

    static func readCondition(_ c: ConfigNode) throws(ConfigError) -> PolicyCondition {
        if let role = try c.optionalString("role") {
            try c.finish()
            return .role(role)
        }
        if let a = try c.section("attribute") {
            let map = try stringMap(a)
            guard map.count == 1, let (k, v) = map.first else { throw c.error("attribute", "name exactly one attribute and its value") }
            try c.finish()
            return .attribute(k, equals: v)
        }
        let argument = try c.string("argument")
        let condition: PolicyCondition
        if let attr = try c.optionalString("equals_attribute") {
            condition = .argumentEqualsAttribute(argument, attribute: attr)
        } else if case .array(let values)? = try c.json("in"), !values.isEmpty {
            condition = .argumentIn(argument, values)
        } else {
            throw c.error(nil, "an argument requirement needs equals_attribute: <attribute> or in: [values]")
        }
        try c.finish()
        return condition
    }

    static func stringMap(_ node: ConfigNode?) throws(ConfigError) -> [String: String] {
        guard let node else { return [:] }
        var out: [String: String] = [:]
        for k in node.keys { out[k] = try node.string(k) }
        try node.finish()
        return out
    }
}

extension Policy {
    /// Refuses patterns and names that match nothing in the catalogue: a typo in a policy would otherwise
    /// silently deny (or fail to restrict) a tool.
    public func validate(against catalog: Catalog, file: String) throws(ConfigError) {
        let tools = catalog.tools.map(\.fullName)
        let uris = catalog.resources.map(\.uri) + catalog.resourceTemplates.map(\.uriTemplate)
        let prompts = catalog.prompts.map(\.fullName)
        func check(_ globs: [Glob], in names: [String], _ path: String) throws(ConfigError) {
            for g in globs where !names.contains(where: { g.matches($0) }) {
                throw ConfigError(file: file, path: path, reason: "'\(g.pattern)' matches nothing in the catalogue")
            }
        }
        for (name, grant) in roles.sorted(by: { $0.key < $1.key }) {
            try check(grant.tools, in: tools, "policy.roles.\(name).tools")
            try check(grant.denyTools, in: tools, "policy.roles.\(name).deny_tools")
            try check(grant.resources, in: uris, "policy.roles.\(name).resources")
            try check(grant.prompts, in: prompts, "policy.roles.\(name).prompts")
        }
        for rule in rules {
            try check(rule.tools, in: tools, "policy.rules.\(rule.id).tools")
            // An argument the tool's schema does not declare can never be sent, so the rule could never pass.
            for c in rule.require {
                let name: String
                switch c {
                case .argumentEqualsAttribute(let n, _), .argumentIn(let n, _): name = n
                case .role, .attribute: continue
                }
                for t in catalog.tools where rule.tools.anyMatches(t.fullName) && t.definition.inputSchema["properties"]?[name] == nil {
                    throw ConfigError(file: file, path: "policy.rules.\(rule.id).require", reason: "tool \(t.fullName) has no argument '\(name)'")
                }
            }
        }
        for name in self.tools.keys.sorted() where catalog.tool(named: name) == nil {
            throw ConfigError(file: file, path: "policy.tools.\(name)", reason: "no such tool in the catalogue")
        }
    }
}
