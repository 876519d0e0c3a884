// SPDX-License-Identifier: Apache-2.0

import Synchronization
import Tracing

/// The broker's own tracer: W3C Trace Context in and out, random ids, parent/child spans.
///
/// It exists so that every call has a trace id (the correlation id) and every backend request carries a
/// `traceparent`, without building swift-otel. Spans are recorded only when a ``SpanRecorder`` is given; without
/// one a span is a few words of ids and costs one small allocation (see the README's tracing section). With the
/// `OTLP` trait and `server.tracing.otlp`, swift-otel's tracer replaces this one.
public struct BrokerTracer: Tracer {
    /// Receives finished spans; `nil` records nothing.
    let recorder: (any SpanRecorder)?

    public init(recorder: (any SpanRecorder)? = nil) {
        self.recorder = recorder
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind, at instant: @autoclosure () -> Instant,
        function: String, file fileID: String, line: UInt
    ) -> BrokerSpan {
        var context = context()
        let ids: TraceParent
        let parentSpanID: SpanID?
        if let parent = context.brokerSpan {
            // A child keeps the trace, its flags and the vendors' tracestate.
            ids = TraceParent(traceID: parent.traceID, spanID: TraceIDSource.spanID(), flags: parent.flags, traceState: parent.traceState)
            parentSpanID = parent.spanID
        } else {
            ids = TraceParent(traceID: TraceIDSource.traceID(), spanID: TraceIDSource.spanID(), flags: 1)
            parentSpanID = nil
        }
        context.brokerSpan = ids
        guard let recorder else { return BrokerSpan(context: context, operationName: operationName) }
        let started = instant().nanosecondsSinceEpoch
        return BrokerSpan(
            context: context, operationName: operationName,
            recording: RecordingState(ids: ids, parentSpanID: parentSpanID, kind: kind, start: started, recorder: recorder))
    }

    public func forceFlush() {}

    /// Writes `traceparent` (and `tracestate`) for the context's span, if it has one.
    public func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let ids = context.brokerSpan else { return }
        injector.inject(ids.header, forKey: TraceHeader.traceparent, into: &carrier)
        if let state = ids.traceState { injector.inject(state, forKey: TraceHeader.tracestate, into: &carrier) }
    }

    /// Reads `traceparent`/`tracestate`; an invalid `traceparent` is ignored (a new trace starts), and so is the
    /// `tracestate` that came with it.
    public func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        guard let raw = extractor.extract(key: TraceHeader.traceparent, from: carrier), var parent = TraceParent.parse(raw) else { return }
        parent.traceState = extractor.extract(key: TraceHeader.tracestate, from: carrier).flatMap(TraceState.normalize)
        context.brokerSpan = parent
    }
}

/// The W3C header names (also the `params._meta` keys of the MCP convention).
public enum TraceHeader {
    public static let traceparent = "traceparent"
    public static let tracestate = "tracestate"
}

/// Where ``BrokerTracer`` keeps the current span's ids in a `ServiceContext`.
enum BrokerSpanKey: ServiceContextKey {
    typealias Value = TraceParent
    static var nameOverride: String? { "mcp-broker.span" }
}

extension ServiceContext {
    /// The ids of the current ``BrokerTracer`` span (or the remote parent extracted from a request).
    var brokerSpan: TraceParent? {
        get { self[BrokerSpanKey.self] }
        set { self[BrokerSpanKey.self] = newValue }
    }
}

/// Random non-zero ids from a lock-free SplitMix64 stream seeded once from the system generator.
///
/// Trace ids need to be unique, not secret (a caller chooses its own through `traceparent` anyway); the system
/// generator costs a syscall per draw, this costs one atomic add.
enum TraceIDSource {
    private static let seed: UInt64 = {
        var g = SystemRandomNumberGenerator()
        return g.next()
    }()
    private static let counter = Atomic<UInt64>(0)

    static func next() -> UInt64 {
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        var z = seed &+ n &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func spanID() -> SpanID {
        var v = next()
        while v == 0 { v = next() }
        return SpanID(v)
    }

    static func traceID() -> TraceID {
        var id = TraceID(high: next(), low: next())
        while !id.isValid { id = TraceID(high: next(), low: next()) }
        return id
    }
}
