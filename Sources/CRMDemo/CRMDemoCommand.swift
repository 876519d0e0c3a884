// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import Hummingbird
import Logging
import MCPCore

/// `crm-demo`: the demo CRM REST API the README demo and the REST backend's integration tests run against.
@main
struct CRMDemoCommand: AsyncParsableCommand {
    /// The command's help text.
    static let configuration = CommandConfiguration(
        commandName: "crm-demo",
        abstract: "A small demo CRM REST API: accounts, contacts, opportunities, several auth kinds, pagination, idempotency, fault knobs.",
        discussion: """
            Credentials come from the environment (a kind whose variables are unset is disabled):
              CRM_BEARER_TOKEN, CRM_BASIC_USER + CRM_BASIC_PASSWORD, CRM_API_KEY, CRM_CLIENT_ID + CRM_CLIENT_SECRET
              (OAuth2 client credentials at POST /oauth/token), CRM_CONTROL_KEY (protects /_control when set).
            The OpenAPI document is served at GET /openapi.json.
            """)

    /// The address to listen on (loopback by default).
    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    /// The port; 0 picks a free one (see `--port-file`).
    @Option(help: "Port to listen on (0: any free port).")
    var port = 8089

    /// Where to write the bound port once listening.
    @Option(name: .customLong("port-file"), help: "Write the bound port and a newline to this file once listening.")
    var portFile: String?

    /// Prints the OpenAPI document and exits.
    @Flag(name: .customLong("print-openapi"), help: "Print the OpenAPI document to stdout and exit.")
    var printOpenAPI = false

    /// Log level.
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    /// Runs the server until the process is terminated.
    func run() async throws {
        if printOpenAPI {
            // Exactly the served bytes, so config/crm/openapi.json matches GET /openapi.json.
            FileHandle.standardOutput.write(Data(CRMOpenAPI.document.utf8))
            return
        }
        var logger = Logger(label: "crm-demo")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let credentials = CRMCredentials(environment: ProcessInfo.processInfo.environment)
        let store = CRMStore()
        let router = CRMRouter.build(store: store, credentials: credentials)
        let portFile = self.portFile
        let startLogger = logger
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "crm-demo"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? 0
                if let portFile { try? Data("\(bound)\n".utf8).write(to: URL(fileURLWithPath: portFile), options: .atomic) }
                startLogger.info(
                    "crm-demo listening",
                    metadata: ["port": "\(bound)", "auth": "\(credentials.enabledKinds.joined(separator: ","))"])
            },
            logger: logger)
        // `run()` rather than `runService()`: SIGTERM ends the process at once, even with /faults/hang requests open.
        try await app.run()
    }
}

/// Assembles the demo's router.
enum CRMRouter {
    /// Every route: `/health`, `/openapi.json`, `/oauth/token`, `/api/v1/*`, `/faults/*`, `/_control/*`.
    static func build(store: CRMStore, credentials: CRMCredentials) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: StatsMiddleware(store: store))
        router.get("/health") { _, _ in CRMHTTP.json(.ok, ["status": "ok"]) }
        router.get("/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: CRMOpenAPI.document)))
        }
        let oauth = OAuthTokenEndpoint(credentials: credentials, store: store)
        router.post("/oauth/token") { request, _ in try await oauth.handle(request) }
        let api = router.group("api/v1").add(middleware: APIAuthMiddleware(credentials: credentials, store: store))
        CRMAPI(store: store).register(on: api)
        CRMFaults(store: store, controlKey: credentials.controlKey).register(on: router)
        return router
    }
}
