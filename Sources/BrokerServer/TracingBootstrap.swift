// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import ServiceLifecycle
import Tracing

#if OTLP
import OTel
#endif

/// Installs the process-wide tracer, once, before the broker serves: swift-otel's OTLP tracer when the binary has
/// the `OTLP` trait and `server.tracing.otlp` is set, otherwise the broker's own (ids and W3C propagation, no export).
enum TracingBootstrap {
    /// - Returns: the service that exports spans, to run beside the transport (first, so that it shuts down last
    ///   and flushes the spans of the calls that finished during shutdown); `nil` for the broker's own tracer.
    static func bootstrap(_ settings: TracingSettings, logger: Logger) throws -> (any Service)? {
        #if OTLP
        if let otlp = settings.otlp {
            let (tracer, service) = try OTel.makeTracingBackend(configuration: configuration(otlp, logger: logger))
            InstrumentationSystem.bootstrap(tracer)
            ChildSpans.record()
            logger.info("exporting spans over OTLP", metadata: ["endpoint": .string(otlp.endpoint), "protocol": .string(otlp.wireProtocol.rawValue)])
            return service
        }
        #endif
        InstrumentationSystem.bootstrap(BrokerTracer())
        return nil
    }

    #if OTLP
    static func configuration(_ otlp: OTLPSettings, logger: Logger) -> OTel.Configuration {
        var c = OTel.Configuration.default
        c.serviceName = otlp.serviceName
        c.diagnosticLogger = .custom(logger)
        c.logs.enabled = false
        c.metrics.enabled = false
        c.traces.exporter = .otlp
        // An explicitly set endpoint is used as is: the OTLP/HTTP traces path is ours to append.
        c.traces.otlpExporter.endpoint = otlp.endpoint.hasSuffix("/") ? otlp.endpoint + "v1/traces" : otlp.endpoint + "/v1/traces"
        c.traces.otlpExporter.protocol = otlp.wireProtocol == .httpJSON ? .httpJSON : .httpProtobuf
        // Follow the caller's sampling decision; sample new traces at the configured ratio.
        c.traces.sampler = .parentBasedTraceIDRatio(ratio: otlp.sampleRatio) ?? .parentBasedAlwaysOn
        return c
    }
    #endif
}
