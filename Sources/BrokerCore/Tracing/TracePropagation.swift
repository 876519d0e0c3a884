// SPDX-License-Identifier: Apache-2.0

import Instrumentation
import MCPCore
import Tracing

/// Reading and writing trace context through whichever tracer is bootstrapped (ours or swift-otel's), so the
/// transports and backends never depend on which one it is.
public enum TracePropagation {
    /// The W3C context of `context`'s current span: ours directly, another tracer's through what it would inject.
    public static func traceParent(in context: ServiceContext?) -> TraceParent? {
        guard let context else { return nil }
        if let ids = context.brokerSpan { return ids }
        var carrier: [(String, String)] = []
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: HeaderListInjector())
        guard let raw = carrier.first(where: { $0.0 == TraceHeader.traceparent })?.1, var ids = TraceParent.parse(raw) else { return nil }
        ids.traceState = carrier.first(where: { $0.0 == TraceHeader.tracestate })?.1
        return ids
    }

    /// `traceparent` (and `tracestate`) for an outgoing request made under `context`; empty without a span.
    public static func headers(for context: ServiceContext? = ServiceContext.current) -> [(String, String)] {
        guard let context else { return [] }
        var carrier: [(String, String)] = []
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: HeaderListInjector())
        return carrier
    }

    /// `context` with the parent a carrier names, when its `traceparent` is valid (W3C rules, ``TraceParent/parse(_:)``);
    /// otherwise `nil`, and the caller keeps the parent it had or starts a new trace.
    public static func extracting<Extract: Extractor>(_ carrier: Extract.Carrier, using extractor: Extract, into base: ServiceContext)
        -> ServiceContext?
    {
        guard let raw = extractor.extract(key: TraceHeader.traceparent, from: carrier), TraceParent.parse(raw) != nil else { return nil }
        var context = base
        context.brokerSpan = nil
        InstrumentationSystem.instrument.extract(carrier, into: &context, using: extractor)
        return context
    }
}

/// Writes headers as `(name, value)` pairs (the REST backend's request headers, the mocks' header maps).
public struct HeaderListInjector: Injector {
    public init() {}
    public func inject(_ value: String, forKey key: String, into carrier: inout [(String, String)]) { carrier.append((key, value)) }
}

/// Reads `traceparent`/`tracestate` from a request's `params._meta` (the MCP convention).
public struct MetaExtractor: Extractor {
    public init() {}
    public func extract(key: String, from carrier: [String: JSONValue]) -> String? { carrier[key]?.stringValue }
}

/// Which transport a request came in on (`network.transport` of the server span): set by the HTTP transport;
/// absent means stdio.
public enum NetworkTransportKey: ServiceContextKey {
    public typealias Value = String
    public static var nameOverride: String? { "mcp-broker.network.transport" }
}
