// SPDX-License-Identifier: Apache-2.0

import BrokerCore
#if canImport(Glibc)
import Glibc
#endif
import Logging
import MCPCore

/// The stdio transport (Claude Desktop, Claude Code): newline-delimited JSON-RPC on stdin/stdout.
///
/// stdout carries only MCP messages; logs go to stderr. Requests run concurrently, each in its own task, so a
/// slow call does not hold up `ping` or `notifications/cancelled`. On EOF the transport stops reading, lets the
/// calls in flight finish (they are bounded by their deadlines), flushes stdout and returns.
public struct StdioTransport: Sendable {
    /// Longest accepted message line.
    public static let maxLineBytes = 4 * 1024 * 1024

    let live: LiveBroker
    /// A fixed principal, or `nil` for the current generation's `server.stdio.principal`.
    let fixedPrincipal: Principal?
    let logger: Logger

    /// - Parameters:
    ///   - server: the MCP server.
    ///   - principal: the configured local principal every call runs as.
    ///   - logger: transport logger (stderr).
    public init(server: MCPServer, principal: Principal, logger: Logger) {
        self.live = LiveBroker(server: server, logger: logger)
        self.fixedPrincipal = principal
        self.logger = logger
    }

    /// A transport over the serving broker: each request runs on the generation current when it was read, as the
    /// principal that generation configures; a reload that changes this session's lists is announced on stdout.
    public init(live: LiveBroker, logger: Logger) {
        self.live = live
        self.fixedPrincipal = nil
        self.logger = logger
    }

    func principal(of generation: BrokerGeneration) -> Principal { fixedPrincipal ?? generation.settings.stdioPrincipal }

    /// Serves until the input reaches EOF.
    public func run(input: Int32 = 0, output: Int32 = 1) async {
        // A client that closes its end must not kill the broker with SIGPIPE: writes then fail with EPIPE instead.
        signal(SIGPIPE, SIG_IGN)
        let reader = LineReader(fd: input, maxLineBytes: Self.maxLineBytes)
        let writer = LineWriter(fd: output)
        let first = principal(of: live.current)
        let session = Session(id: nil, ownerID: first.bindingKey, transport: .pipe)
        // One session for the process's lifetime: open until the input closes. Metrics are the process's, the same
        // in every generation.
        let metrics = live.current.server.metrics
        metrics.watchSessions(.pipe) { [weak session] in session.map { _ in 1 } }
        defer { metrics.sessionEnded(session) }
        logger.info("stdio transport ready", metadata: ["principal": .string(first.description)])
        let fixed = fixedPrincipal
        let token = live.hub.subscribe { change in
            guard session.isInitialized else { return }
            let who = fixed ?? change.new.settings.stdioPrincipal
            for notification in change.notifications(for: who) { writer.send(notification) }
        }
        defer { live.hub.unsubscribe(token) }
        var era = StdioEra.undecided
        let modern = ModernStdioRequests()
        defer { modern.closeAll() }
        await withDiscardingTaskGroup { group in
            for await event in reader.lines {
                reader.consumed()
                switch event {
                case .oversized(let bytes):
                    logger.notice("dropped oversized message", metadata: ["bytes": "\(bytes)"])
                    writer.send(RPCEncoding.error(id: nil, .invalidRequest("message larger than \(Self.maxLineBytes) bytes")))
                case .line(let bytes):
                    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                    let message: RPCMessage
                    do throws(RPCError) {
                        message = try RPCMessage.parse(bytes)
                    } catch {
                        writer.send(RPCEncoding.error(id: RPCMessage.salvageID(bytes), error))
                        continue
                    }
                    let lease = live.begin()
                    let principal = principal(of: lease.generation)
                    if case .request(let request) = message, era == .undecided { era = StdioEra.chosen(by: request) }
                    switch (message, era) {
                    case (.request(let request), .modern):
                        if let work = serveModern(request, lease: lease, principal: principal, requests: modern, writer: writer) { group.addTask(operation: work) }
                    case (.notification(let n), .modern):
                        // The only client notification of 2026-07-28 on stdio: cancelling a call or a listen stream.
                        if n.method == "notifications/cancelled", let raw = n.params?["requestId"], let id = RequestID(json: raw) { modern.cancel(id) }
                        lease.end()
                    case (.request(let request), _) where RequestEnvelope.marksModern(request):
                        lease.end()
                        writer.send(
                            RPCEncoding.error(
                                id: request.id, .invalidRequest("this connection began with initialize (2025-11-25); open a new connection for 2026-07-28 requests")))
                    case (.request(let request), _):
                        // Started (and registered for cancellation) here, in read order, before the next line.
                        let task = lease.server.start(request, session: session, principal: principal) { bytes in writer.send(bytes) }
                        group.addTask {
                            defer { lease.end() }
                            if let reply = await task.value { writer.send(reply.bytes) }
                        }
                    default:
                        _ = await lease.server.process(message, session: session, principal: principal, notify: nil)
                        lease.end()
                    }
                }
            }
        }
        await writer.drain()
        logger.info("stdio input closed; shut down cleanly")
    }
}
