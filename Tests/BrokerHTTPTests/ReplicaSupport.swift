// SPDX-License-Identifier: Apache-2.0

import BrokerBackendMockHR
import BrokerCore
import SharedStateTestSupport
import BrokerHTTP
import Foundation
import Logging
import MCPCore
import ServiceLifecycle
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Brokers over real loopback sockets that share one ``MemorySharedStore``: replicas of one deployment.
enum Replicas {
    static let keyVariable = "SHARED_TEST_STATE_KEY"
    static let key = "replica-test-key-" + String(repeating: "k", count: 40)

    /// One replica's configuration: shared state, the deployment's key, mock HR with a confirmed tool.
    static func config(principal: String) -> String {
        """
        server:
          page_size: 50
          http: { port: 0, max_body_bytes: 65536, session_idle_timeout_s: 600, principal: { id: \(principal), tenant: default } }
          request_state: { key: env:\(keyVariable) }
          shared_state: { redis: { address: "127.0.0.1:6379" }, replicas: 2 }
        backends:
          hr:
            kind: mock-hr
            credentials: { api_key: env:REPLICA_TEST_HR_KEY }
            system: { tenants: [default], api_key: env:REPLICA_TEST_HR_KEY, employees: 50 }
        policy:
          roles: { "*": { tools: ["*"], resources: ["*"], prompts: ["*"] } }
          tools:
            hr__list_departments: { confirm: true }
        """
    }

    /// A running replica.
    struct Replica {
        let url: URL
        let group: ServiceGroup
        let running: Task<Void, any Error>

        func stop() async {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
        }
    }

    /// Starts a replica named `replicaID` on `store`, running every request as `principal`.
    static func start(_ store: MemorySharedStore, replicaID: String, principal: String = "alice") async throws -> Replica {
        setenv(keyVariable, key, 1)
        setenv("REPLICA_TEST_HR_KEY", "hr-replica-key", 1)
        let configuration = try BrokerConfiguration.parse(yaml: config(principal: principal), file: "replica-\(replicaID).yaml")
        var registry = BackendRegistry()
        registry.register(MockHR.kind)
        let logger = Logger(label: "replica-\(replicaID)")
        let shared = SharedState(store: store, replicas: .fixed(2), replicaID: replicaID)
        let broker = try Broker(configuration: configuration, registry: registry, logger: logger, shared: shared)
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let services = HTTPTransport.makeServices(broker: broker, logger: logger) { port in portContinuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), let url = URL(string: "http://127.0.0.1:\(port)/mcp") else {
            throw XCTSkip("replica did not start")
        }
        return Replica(url: url, group: group, running: running)
    }
}

/// One HTTP exchange.
struct HTTPReply {
    let status: Int
    let headers: [String: String]
    let body: Data
    var json: JSONValue? { try? JSONParser.parse(Array(body)) }
}

func httpSend(_ url: URL, method: String = "POST", body: String? = nil, headers: [String: String] = [:]) async throws -> HTTPReply {
    var request = URLRequest(url: url)
    request.httpMethod = method
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.setValue("application/json, text/event-stream", forHTTPHeaderField: "Accept")
    for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
    if let body { request.httpBody = Data(body.utf8) }
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as? HTTPURLResponse
    var h: [String: String] = [:]
    for (k, v) in http?.allHeaderFields ?? [:] { h[String(describing: k).lowercased()] = String(describing: v) }
    return HTTPReply(status: http?.statusCode ?? 0, headers: h, body: data)
}

/// Reads an SSE response as it arrives, message by message (a confirmation keeps its POST open until answered).
final class SSEStream: NSObject, URLSessionDataDelegate, Sendable {
    private let chunks: AsyncStream<Data>.Continuation
    private let stream: AsyncStream<Data>

    override init() {
        let pair = AsyncStream<Data>.makeStream()
        stream = pair.stream
        chunks = pair.continuation
        super.init()
    }

    /// Opens a POST whose answer streams.
    static func post(_ url: URL, body: String, headers: [String: String]) -> (SSEStream, URLSession) {
        let reader = SSEStream()
        let session = URLSession(configuration: .default, delegate: reader, delegateQueue: nil)
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json, text/event-stream", forHTTPHeaderField: "Accept")
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        request.httpBody = Data(body.utf8)
        session.dataTask(with: request).resume()
        return (reader, session)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) { chunks.yield(data) }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) { chunks.finish() }

    /// The JSON-RPC messages of the stream, each as soon as its event is complete.
    func messages() -> AsyncStream<JSONValue> {
        let source = stream
        return AsyncStream { continuation in
            let task = Task {
                var buffer = ""
                for await chunk in source {
                    buffer += String(decoding: chunk, as: UTF8.self)
                    while let end = buffer.range(of: "\n\n") {
                        let event = String(buffer[..<end.lowerBound])
                        buffer.removeSubrange(..<end.upperBound)
                        for line in event.split(separator: "\n") where line.hasPrefix("data: ") {
                            if let message = try? JSONParser.parse(String(line.dropFirst(6))) { continuation.yield(message) }
                        }
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
