// swift-tools-version:6.2
// mcp-broker: one MCP endpoint in front of an enterprise's systems.
//
// The target graph enforces the layers (see README "Architecture"):
//   MCPCore           MCP + JSON-RPC types, JSON codec, schema validation. No I/O, no dependencies.
//   BrokerCore        backend contract, registry, router, config, errors, call context, MCP dispatcher.
//   SimulationKit     deterministic data, latency and fault injection for the simulated systems.
//   BrokerBackend*    one target per backend kind; they cannot import Hummingbird.
//   BrokerRedis       the shared-state store (server.shared_state) over hiredis and OpenSSL.
//   BrokerHTTP        Streamable HTTP transport; the only target that imports Hummingbird.
//   BrokerStdio       stdio transport.
//   BrokerServer      the thin `mcp-broker` executable: CLI, wiring, the list of built-in kinds.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "mcp-broker",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mcp-broker", targets: ["BrokerServer"]),
        .executable(name: "crm-demo", targets: ["CRMDemo"]),
    ],
    // OTLP span export through swift-otel: off by default, because swift-otel and its HTTP client take minutes to
    // build. `swift build --traits OTLP` builds a broker that honours `server.tracing.otlp`.
    traits: [.trait(name: "OTLP", description: "Export spans over OTLP/HTTP through swift-otel")],
    dependencies: [
        // ConfigurationSupport is off: our config is strict YAML (unknown keys refused), read through Yams.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // External loading off: documents are local files, and the trait makes the build notably slower.
        .package(url: "https://github.com/mattpolzin/OpenAPIKit.git", from: "6.4.0", traits: []),
        // JWT verification (RS256/ES256/EdDSA) for the OAuth resource server; SHA-256 for API keys and audit hashes.
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        // gzip for large HTTP responses (links Debian's zlib).
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        // Metrics: BrokerCore records through CoreMetrics with an injected factory; only BrokerHTTP sees Prometheus.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // Tracing API: spans and W3C propagation through our own tracer (BrokerCore/Tracing).
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // Only compiled with the OTLP trait; its gRPC exporter is left out (OTLP/HTTP only).
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: [.trait(name: "OTLPHTTP", condition: .when(traits: ["OTLP"]))]),
    ],
    targets: [
        .target(name: "MCPCore", swiftSettings: swiftSettings),
        .target(
            name: "BrokerCore",
            dependencies: [
                "MCPCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // Identity: API keys and JWT bearer tokens. Only this target sees the JWT library.
        .target(
            name: "BrokerAuth",
            dependencies: [
                "BrokerCore",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "SimulationKit", dependencies: ["MCPCore"], swiftSettings: swiftSettings),
        .target(name: "BrokerBackendMockERP", dependencies: ["BrokerCore", "SimulationKit", .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        .target(name: "BrokerBackendMockHR", dependencies: ["BrokerCore", "SimulationKit", .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        // C libraries from Debian -dev packages; only the Postgres backend target can see them.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CPGQuery", providers: [.apt(["libpg-query-dev"])]),
        .target(
            name: "BrokerBackendPostgres",
            dependencies: ["BrokerCore", "CLibPQ", "CPGQuery", .product(name: "Logging", package: "swift-log"), .product(name: "Tracing", package: "swift-distributed-tracing")],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CLibCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // Typed, non-variadic wrappers: curl_easy_setopt/getinfo are C-variadic and not callable from Swift.
        .target(name: "CCurlShim", dependencies: ["CLibCurl"]),
        .target(
            name: "BrokerBackendREST",
            dependencies: [
                "BrokerCore", "CLibCurl", "CCurlShim",
                .product(name: "OpenAPIKit30", package: "OpenAPIKit"),
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // The demo CRM REST API: a separate product the README demo and the REST integration tests talk to.
        .executableTarget(
            name: "CRMDemo",
            dependencies: [
                "MCPCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BrokerHTTP",
            dependencies: [
                "BrokerCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "BrokerStdio", dependencies: ["BrokerCore"], swiftSettings: swiftSettings),
        // The shared-state store (server.shared_state): hiredis encodes and parses RESP, OpenSSL does TLS, and the
        // target owns the sockets on its own threads. Only BrokerRedis sees these C libraries.
        // No pkgConfig for hiredis: its .pc adds -D_FILE_OFFSET_BITS=64, which SwiftPM refuses with a warning on every
        // build; the header is found as <hiredis/hiredis.h> in /usr/include.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(
            name: "BrokerRedis",
            dependencies: [
                "BrokerCore", "CHiredis", "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "BrokerServer",
            dependencies: [
                "BrokerCore", "BrokerAuth", "BrokerHTTP", "BrokerStdio",
                "BrokerBackendMockERP", "BrokerBackendMockHR", "BrokerBackendPostgres", "BrokerBackendREST", "BrokerRedis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel", condition: .when(traits: ["OTLP"])),
            ],
            swiftSettings: swiftSettings
        ),
        // An in-memory SharedStateStore (the Redis store's semantics in one process) for the BrokerCore and BrokerHTTP
        // tests: brokers given one instance behave as replicas of one deployment. Under Sources/ because the image's
        // build context has no Tests/ (SwiftPM checks every target's path); no product depends on it.
        .target(name: "SharedStateTestSupport", dependencies: ["BrokerCore"], swiftSettings: swiftSettings),
        .testTarget(name: "MCPCoreTests", dependencies: ["MCPCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "BrokerCoreTests",
            dependencies: [
                "BrokerCore", "SharedStateTestSupport", .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BrokerAuthTests",
            dependencies: ["BrokerAuth", "BrokerCore", .product(name: "JWTKit", package: "jwt-kit"), .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BrokerBackendMockTests",
            dependencies: ["BrokerBackendMockERP", "BrokerBackendMockHR", "BrokerCore", "SimulationKit"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BrokerBackendPostgresTests", dependencies: ["BrokerBackendPostgres", "BrokerCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "BrokerBackendRESTTests", dependencies: ["BrokerBackendREST", "BrokerCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "BrokerRedisTests", dependencies: ["BrokerRedis", "BrokerCore", .product(name: "Logging", package: "swift-log")],
            exclude: ["hostile_redis.py"], swiftSettings: swiftSettings),
        .testTarget(name: "BrokerStdioTests", dependencies: ["BrokerStdio", "BrokerCore", "BrokerBackendMockHR"], swiftSettings: swiftSettings),
        .testTarget(
            name: "BrokerHTTPTests",
            dependencies: [
                "BrokerHTTP", "BrokerCore", "SharedStateTestSupport", "BrokerBackendMockHR", "BrokerBackendMockERP",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
