// SPDX-License-Identifier: Apache-2.0

import BrokerBackendMockHR
import BrokerCore
import BrokerStdio
import Foundation
import Logging
import MCPCore
import XCTest

/// The stdio transport over real pipes, with the real mock HR backend.
final class StdioTransportTests: XCTestCase {
    struct Pipes {
        // The Pipe objects own the descriptors the transport uses: keep them alive for the whole test.
        let pipes: [Pipe]
        let toServer: FileHandle
        let fromServer: FileHandle
        let done: Task<Void, Never>
    }

    func start() throws -> Pipes {
        setenv("STDIO_TEST_HR_KEY", "key-\(UUID().uuidString)", 1)
        let yaml = """
            server: { stdio: { principal: { id: tester, tenant: acme } } }
            backends:
              hr:
                kind: mock-hr
                credentials: { api_key: env:STDIO_TEST_HR_KEY }
                system: { tenants: [acme], api_key: env:STDIO_TEST_HR_KEY, employees: 200 }
            policy:
              roles: { "*": { tools: ["*"], resources: ["*"], prompts: ["*"] } }
            """
        var registry = BackendRegistry()
        registry.register(MockHR.kind)
        let configuration = try BrokerConfiguration.parse(yaml: yaml)
        let broker = try Broker(configuration: configuration, registry: registry, logger: Logger(label: "stdio-test"))
        let input = Pipe(), output = Pipe()
        let transport = StdioTransport(server: broker.server, principal: configuration.server.stdioPrincipal, logger: Logger(label: "stdio-test"))
        let inFD = input.fileHandleForReading.fileDescriptor, outFD = output.fileHandleForWriting.fileDescriptor
        let done = Task { await transport.run(input: inFD, output: outFD) }
        return Pipes(pipes: [input, output], toServer: input.fileHandleForWriting, fromServer: output.fileHandleForReading, done: done)
    }

    /// Reads one newline-terminated message from the server.
    func readLine(_ h: FileHandle) -> JSONValue? {
        var bytes: [UInt8] = []
        while true {
            let d = h.readData(ofLength: 1)
            guard let b = d.first else { return nil }
            if b == 0x0A { return try? JSONParser.parse(bytes) }
            bytes.append(b)
        }
    }

    func send(_ p: Pipes, _ text: String) { p.toServer.write(Data((text + "\n").utf8)) }

    func testHandshakeCallsErrorsAndCleanEOF() async throws {
        let p = try start()
        send(p, #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
        XCTAssertEqual(readLine(p.fromServer)?["result"]?["protocolVersion"], "2025-06-18")
        send(p, #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        send(p, "{broken")
        let parseError = readLine(p.fromServer)
        XCTAssertEqual(parseError?["error"]?["code"], -32700)
        XCTAssertEqual(parseError?["id"], .null)
        send(p, #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"hr__list_departments"}}"#)
        let call = readLine(p.fromServer)
        XCTAssertEqual(call?["id"], 2)
        XCTAssertNotNil(call?["result"]?["structuredContent"])
        send(p, #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nope__x"}}"#)
        XCTAssertEqual(readLine(p.fromServer)?["error"]?["code"], -32602)
        try p.toServer.close()
        await p.done.value  // returns only if EOF shuts the transport down
    }

    func testOversizedLineIsRejectedAndServingContinues() async throws {
        let p = try start()
        // 5 MiB without a newline, then the newline: streamed, never buffered whole.
        let chunk = Data(repeating: UInt8(ascii: "a"), count: 1 << 20)
        for _ in 0..<5 { p.toServer.write(chunk) }
        p.toServer.write(Data("\n".utf8))
        let error = readLine(p.fromServer)
        XCTAssertEqual(error?["error"]?["code"], -32600)
        XCTAssertTrue(error?["error"]?["message"]?.stringValue?.contains("4194304") ?? false)
        send(p, #"{"jsonrpc":"2.0","id":7,"method":"ping"}"#)
        XCTAssertEqual(readLine(p.fromServer)?["id"], 7)
        try p.toServer.close()
        await p.done.value
    }
}
