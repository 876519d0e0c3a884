// SPDX-License-Identifier: Apache-2.0

/// `server.tracing`: where spans go. Without `otlp` the broker's own tracer runs (ids and propagation, no export).
public struct TracingSettings: Sendable, Equatable {
    /// OTLP/HTTP export (`server.tracing.otlp`); only a binary built with `--traits OTLP` accepts it.
    public var otlp: OTLPSettings?

    public init(otlp: OTLPSettings? = nil) { self.otlp = otlp }
}

/// `server.tracing.otlp`.
public struct OTLPSettings: Sendable, Equatable {
    /// The OTLP/HTTP wire encoding.
    public enum WireProtocol: String, Sendable, Equatable {
        case httpJSON = "http/json"
        case httpProtobuf = "http/protobuf"
    }

    /// Base URL of the collector (`http://host:4318`); spans go to `<endpoint>/v1/traces`.
    public var endpoint: String
    public var wireProtocol: WireProtocol
    /// `service.name` of the exported resource.
    public var serviceName: String
    /// Share of new traces recorded (0…1); a caller's sampled flag is followed (parent-based sampling).
    public var sampleRatio: Double

    public init(endpoint: String, wireProtocol: WireProtocol = .httpProtobuf, serviceName: String = "mcp-broker", sampleRatio: Double = 1.0) {
        self.endpoint = endpoint
        self.wireProtocol = wireProtocol
        self.serviceName = serviceName
        self.sampleRatio = sampleRatio
    }

    /// Whether this binary was built with the `OTLP` trait (swift-otel compiled in).
    public static var isAvailable: Bool {
        #if OTLP
        return true
        #else
        return false
        #endif
    }
}

extension BrokerConfiguration {
    /// Reads `server.tracing`. An `otlp` section is parsed fully first, then refused by a binary without the trait,
    /// so `validate` reports mistakes in it either way.
    static func readTracing(_ t: ConfigNode) throws(ConfigError) -> TracingSettings {
        var out = TracingSettings()
        if let o = try t.section("otlp") {
            let endpoint = try o.string("endpoint")
            guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://"), endpoint.count > 8, endpoint.count <= 2048,
                !endpoint.contains(where: { $0 == " " || $0 == "?" || $0 == "#" })
            else { throw o.error("endpoint", "must be an http:// or https:// URL without query, such as http://127.0.0.1:4318") }
            let proto = try o.string("protocol", default: OTLPSettings.WireProtocol.httpProtobuf.rawValue)
            guard let wire = OTLPSettings.WireProtocol(rawValue: proto) else { throw o.error("protocol", "must be http/json or http/protobuf") }
            let service = try o.string("service_name", default: "mcp-broker")
            guard !service.isEmpty, service.count <= 255 else { throw o.error("service_name", "must be 1-255 characters") }
            let ratio = try o.double("sample_ratio", default: 1.0, range: 0...1)
            try o.finish()
            guard OTLPSettings.isAvailable else {
                throw t.error("otlp", "this mcp-broker was built without OTLP export; build with --traits OTLP (swift build --traits OTLP)")
            }
            out.otlp = OTLPSettings(endpoint: endpoint, wireProtocol: wire, serviceName: service, sampleRatio: ratio)
        }
        try t.finish()
        return out
    }
}
