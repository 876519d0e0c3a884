// SPDX-License-Identifier: Apache-2.0

import Foundation
import MCPCore

/// A tool as the broker serves it: namespaced, with its compiled input schema and the backend that owns it.
public struct CatalogTool: Sendable {
    /// `<backend><separator><tool>`.
    public let fullName: String
    /// Index of the owning backend in ``Catalog/backends``.
    public let backendIndex: Int
    public let definition: ToolDefinition
    /// Compiled once at load; enforced on every call before the backend runs.
    public let inputValidator: CompiledSchema
    /// The `tools/list` entry, built once.
    public let listEntry: JSONValue
}

/// A prompt as the broker serves it.
public struct CatalogPrompt: Sendable {
    public let fullName: String
    public let backendIndex: Int
    public let prompt: Prompt
    public let listEntry: JSONValue
}

/// The namespaced catalogue of every backend's tools, prompts and resources, built once at startup.
///
/// Routing is two hash lookups: split the name at the first separator (backend names cannot contain it), find
/// the backend, then find the tool in that backend's table — no scan over the catalogue.
public final class Catalog: Sendable {
    /// Claude Desktop and claude.ai drop a whole server whose tool names fail this (no dots, ≤ 64 characters).
    public static func isValidToolName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 64 else { return false }
        return name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
        }
    }

    public let separator: String
    /// The separator's bytes, for the per-call split.
    let separatorBytes: [UInt8]
    public let backends: [any Backend]
    /// Tools in listing order (backend order from config, then the backend's order).
    public let tools: [CatalogTool]
    public let prompts: [CatalogPrompt]
    public let resources: [Resource]
    public let resourceTemplates: [ResourceTemplate]
    /// The list entries, built once (lists are served on every session's first requests).
    let toolListEntries: [JSONValue]
    let promptListEntries: [JSONValue]
    let resourceListEntries: [JSONValue]
    let templateListEntries: [JSONValue]
    private let backendIndex: [String: Int]
    private let toolTables: [[String: Int]]
    private let promptTable: [String: Int]

    /// Builds the catalogue.
    /// - Throws: ``ConfigError`` for an invalid final name, a duplicate, or a schema the validator cannot enforce.
    public init(backends: [any Backend], separator: String, configFile: String = "configuration") throws(ConfigError) {
        self.separator = separator
        self.separatorBytes = Array(separator.utf8)
        self.backends = backends
        var index: [String: Int] = [:]
        var all: [CatalogTool] = []
        var tables: [[String: Int]] = []
        var seen: [String: String] = [:]
        var prompts: [CatalogPrompt] = []
        var promptTable: [String: Int] = [:]
        var resources: [Resource] = []
        var templates: [ResourceTemplate] = []
        for (i, backend) in backends.enumerated() {
            let path = "backends.\(backend.name)"
            index[backend.name] = i
            var table: [String: Int] = [:]
            for def in backend.tools {
                let full = backend.name + separator + def.name
                guard Self.isValidToolName(full) else {
                    throw ConfigError(file: configFile, path: path, reason: "tool name '\(full)' must match ^[a-zA-Z0-9_-]{1,64}$ (Claude clients drop the whole server otherwise)")
                }
                if let other = seen[full] {
                    throw ConfigError(file: configFile, path: path, reason: "tool name '\(full)' is produced twice (also by backend '\(other)')")
                }
                seen[full] = backend.name
                let validator: CompiledSchema
                do {
                    validator = try CompiledSchema(def.inputSchema)
                } catch {
                    throw ConfigError(file: configFile, path: path, reason: "tool '\(def.name)': input schema \(error.description)")
                }
                guard def.inputSchema["type"] == "object" else {
                    throw ConfigError(file: configFile, path: path, reason: "tool '\(def.name)': inputSchema must have type object")
                }
                let listed = Tool(
                    name: full, title: def.title, description: def.description, inputSchema: def.inputSchema,
                    outputSchema: def.outputSchema, annotations: def.annotations)
                table[def.name] = all.count
                all.append(CatalogTool(fullName: full, backendIndex: i, definition: def, inputValidator: validator, listEntry: listed.json))
            }
            tables.append(table)
            for p in backend.prompts {
                let full = backend.name + separator + p.name
                guard Self.isValidToolName(full), promptTable[full] == nil else {
                    throw ConfigError(file: configFile, path: path, reason: "prompt name '\(full)' is invalid or duplicated")
                }
                var listed = p
                listed.name = full
                promptTable[full] = prompts.count
                prompts.append(CatalogPrompt(fullName: full, backendIndex: i, prompt: p, listEntry: listed.json))
            }
            for r in backend.resources {
                guard ResourceURI.backend(of: r.uri) == backend.name else {
                    throw ConfigError(file: configFile, path: path, reason: "resource URI '\(r.uri)' must start with broker://\(backend.name)/")
                }
                resources.append(r)
            }
            for t in backend.resourceTemplates {
                guard ResourceURI.backend(of: t.uriTemplate) == backend.name else {
                    throw ConfigError(file: configFile, path: path, reason: "resource template '\(t.uriTemplate)' must start with broker://\(backend.name)/")
                }
                templates.append(t)
            }
        }
        self.backendIndex = index
        self.tools = all
        self.toolTables = tables
        self.prompts = prompts
        self.promptTable = promptTable
        self.resources = resources
        self.resourceTemplates = templates
        self.toolListEntries = all.map(\.listEntry)
        self.promptListEntries = prompts.map(\.listEntry)
        self.resourceListEntries = resources.map(\.json)
        self.templateListEntries = templates.map(\.json)
    }

    /// Finds a tool by its full name.
    public func tool(named name: String) -> CatalogTool? {
        guard let (backend, tool) = Self.split(name, at: separatorBytes) else { return nil }
        guard let b = backendIndex[backend], let t = toolTables[b][tool] else { return nil }
        return tools[t]
    }

    /// `name` cut at the first `separator`: a plain byte scan. It runs for every call (twice, with the span name),
    /// and both Foundation's `range(of:)` and the generic `firstRange(of:)` showed in the per-call profile.
    static func split(_ name: String, at separator: [UInt8]) -> (String, String)? {
        guard let first = separator.first else { return nil }
        var name = name
        return name.withUTF8 { bytes -> (String, String)? in
            guard bytes.count >= separator.count else { return nil }
            var i = 0
            while i <= bytes.count - separator.count {
                if bytes[i] == first, separator.indices.allSatisfy({ bytes[i + $0] == separator[$0] }) {
                    let backend = String(decoding: UnsafeBufferPointer(rebasing: bytes[..<i]), as: UTF8.self)
                    let tool = String(decoding: UnsafeBufferPointer(rebasing: bytes[(i + separator.count)...]), as: UTF8.self)
                    return (backend, tool)
                }
                i += 1
            }
            return nil
        }
    }

    /// Finds a prompt by its full name.
    public func prompt(named name: String) -> CatalogPrompt? { promptTable[name].map { prompts[$0] } }

    /// The backend instance called `name`.
    public func backend(named name: String) -> (any Backend)? { backendIndex[name].map { backends[$0] } }
}
