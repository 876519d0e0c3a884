// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import BrokerAuth
import BrokerCore
import Foundation
import Logging
import MCPCore

/// `mcp-broker validate`: load the configuration and build every backend without serving.
struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a configuration: exit 0 when valid, 2 with the file, key and reason when not.")

    @Argument(help: "Configuration file or directory.")
    var path: String

    func run() async throws {
        var options = ConfigOptions()
        options.config = path
        let (broker, configuration) = try options.loadBroker(logLevel: .warning)
        let c = broker.catalog
        print("OK: \(path): \(c.backends.count) backends, \(c.tools.count) tools, \(c.prompts.count) prompts, \(c.resources.count) resources, \(c.resourceTemplates.count) resource templates")
        print("tenants served: \(configuration.declaredTenants.sorted().joined(separator: ", "))" + (configuration.server.tenants == nil ? " (derived; set server.tenants to fix the list)" : ""))
        // Per backend, so a credential set shared across tenants is a visible decision, not a default.
        for backend in c.backends {
            guard let scope = backend as? any CredentialScopeReporting else { continue }
            print("backend \(backend.name): \(scope.credentialScopeSummary)")
        }
    }
}

/// `mcp-broker tools`: the namespaced catalogue as a table.
struct Tools: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the namespaced tool catalogue.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let (broker, _) = try options.loadBroker(logLevel: .warning)
        let rows = broker.catalog.tools.map { t -> [String] in
            let access = t.definition.annotations.readOnlyHint ? "read" : "write"
            let summary = t.definition.description.split(separator: ".").first.map(String.init) ?? ""
            return [t.fullName, access, String(summary.prefix(70))]
        }
        print(Table.render(header: ["TOOL", "ACCESS", "DESCRIPTION"], rows: rows))
        print("\(rows.count) tools from \(broker.catalog.backends.count) backends")
    }
}

/// `mcp-broker call TOOL JSON`: one local call as the stdio principal, for ops.
struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Call one tool locally (as the configured stdio principal) and print the result.")

    @OptionGroup var options: ConfigOptions

    @Argument(help: "Namespaced tool name, e.g. hr__get_employee.")
    var tool: String

    @Argument(help: "Arguments as a JSON object.")
    var arguments: String = "{}"

    func run() async throws {
        let (broker, configuration) = try options.loadBroker(logLevel: .warning)
        let args: JSONValue
        do {
            args = try JSONParser.parse(arguments)
        } catch {
            FileHandle.standardError.write(Data("arguments are not valid JSON: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        let principal = configuration.server.stdioPrincipal
        let session = Session(id: nil, ownerID: principal.bindingKey)
        let server = broker.server
        _ = await server.dispatch(RPCRequest(id: .int(0), method: "initialize", params: ["protocolVersion": .string(ProtocolVersion.latest)]), session: session, principal: principal, notify: nil)
        let request = RPCRequest(id: .int(1), method: "tools/call", params: ["name": .string(tool), "arguments": args])
        switch await server.dispatch(request, session: session, principal: principal, notify: nil) {
        case .failure(let error):
            FileHandle.standardError.write(Data("\(error.message)\n".utf8))
            throw ExitCode(2)
        case .success(let result):
            if let structured = result["structuredContent"] {
                print(Pretty.json(structured))
            } else {
                for block in result["content"]?.arrayValue ?? [] { print(block["text"]?.stringValue ?? block.jsonText) }
            }
            if result["isError"]?.boolValue == true { throw ExitCode(1) }
        }
    }
}

/// `mcp-broker kinds`: the backend kinds compiled in.
struct Kinds: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the backend kinds this binary supports.")

    func run() async throws {
        let registry = BuiltinBackends.registry
        for name in registry.names { print("\(name)\t\(registry.kind(name)?.summary ?? "")") }
    }
}

/// `mcp-broker hash-key`: a new API key and the hash to put in configuration.
struct HashKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-key",
        abstract: "Generate an API key for a machine tenant and print it with its hash (only the hash goes in config).",
        discussion: "With --key, hash an existing key (read from the MCP_BROKER_KEY environment variable, never from the command line).")

    @Flag(help: "Hash the key in the MCP_BROKER_KEY environment variable instead of generating one.")
    var key = false

    func run() async throws {
        if key {
            guard let existing = ProcessInfo.processInfo.environment["MCP_BROKER_KEY"], !existing.isEmpty else {
                FileHandle.standardError.write(Data("MCP_BROKER_KEY is not set\n".utf8))
                throw ExitCode(2)
            }
            print(APIKeyGenerator.hash(ofKey: existing))
            return
        }
        let (newKey, hash) = APIKeyGenerator.generate()
        print("key:  \(newKey)")
        print("hash: \(hash)")
        FileHandle.standardError.write(Data("Give the key to the client once; put only the hash in server.http.auth.api_keys.\n".utf8))
    }
}
