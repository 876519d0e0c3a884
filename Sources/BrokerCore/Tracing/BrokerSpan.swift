// SPDX-License-Identifier: Apache-2.0

import Synchronization
import Tracing

/// Receives the spans a ``BrokerTracer`` finished (tests, or an exporter of one's own).
public protocol SpanRecorder: Sendable {
    func record(_ span: FinishedSpan)
}

/// A span as it ended.
public struct FinishedSpan: Sendable {
    public var operationName: String
    public var kind: SpanKind
    public var ids: TraceParent
    /// `nil` for a root span. For a span under a remote parent, the caller's span id.
    public var parentSpanID: SpanID?
    public var attributes: SpanAttributes
    public var status: SpanStatus?
    public var events: [SpanEvent]
    public var startNanoseconds: UInt64
    public var endNanoseconds: UInt64
}

/// A span of ``BrokerTracer``. Without a recorder it only carries its context (ids for propagation and logs), and
/// every setter is a no-op.
public final class BrokerSpan: Span {
    public let context: ServiceContext
    private let name: Mutex<String>
    private let recording: RecordingState?

    init(context: ServiceContext, operationName: String, recording: RecordingState? = nil) {
        self.context = context
        self.name = Mutex(operationName)
        self.recording = recording
    }

    public var operationName: String {
        get { name.withLock { $0 } }
        set { if recording != nil { name.withLock { $0 = newValue } } }
    }

    public var isRecording: Bool { recording?.isOpen ?? false }

    public var attributes: SpanAttributes {
        get { recording?.state.withLock { $0.attributes } ?? [:] }
        set { recording?.update { $0.attributes = newValue } }
    }

    public func setStatus(_ status: SpanStatus) { recording?.update { $0.status = status } }

    public func addEvent(_ event: SpanEvent) { recording?.update { $0.events.append(event) } }

    public func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        guard let recording else { return }
        var attributes = attributes
        attributes["exception.type"] = String(describing: type(of: error))
        let event = SpanEvent(name: "exception", at: instant(), attributes: attributes)
        recording.update { $0.events.append(event) }
    }

    public func addLink(_ link: SpanLink) {}

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        guard let recording else { return }
        let end = instant().nanosecondsSinceEpoch
        let name = self.name.withLock { $0 }
        recording.finish(name: name, end: end)
    }
}

/// What a recording span accumulates until it ends; ending twice records once.
final class RecordingState: Sendable {
    struct State {
        var attributes: SpanAttributes = [:]
        var status: SpanStatus?
        var events: [SpanEvent] = []
        var open = true
    }

    let ids: TraceParent
    let parentSpanID: SpanID?
    let kind: SpanKind
    let start: UInt64
    let recorder: any SpanRecorder
    let state = Mutex(State())

    init(ids: TraceParent, parentSpanID: SpanID?, kind: SpanKind, start: UInt64, recorder: any SpanRecorder) {
        self.ids = ids
        self.parentSpanID = parentSpanID
        self.kind = kind
        self.start = start
        self.recorder = recorder
    }

    var isOpen: Bool { state.withLock { $0.open } }

    /// Applies a change while the span is open (changes after `end` are ignored, as OpenTelemetry specifies).
    func update(_ change: (inout State) -> Void) {
        state.withLock { s in if s.open { change(&s) } }
    }

    func finish(name: String, end: UInt64) {
        let finished: State? = state.withLock { s in
            guard s.open else { return nil }
            s.open = false
            return s
        }
        guard let s = finished else { return }
        recorder.record(
            FinishedSpan(
                operationName: name, kind: kind, ids: ids, parentSpanID: parentSpanID, attributes: s.attributes, status: s.status,
                events: s.events, startNanoseconds: start, endNanoseconds: max(start, end)))
    }
}
