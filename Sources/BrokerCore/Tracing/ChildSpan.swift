// SPDX-License-Identifier: Apache-2.0

import Synchronization
import Tracing

/// Whether the spans inside a request (pipeline stages, backend requests) are created at all.
///
/// They only matter to an exporter: without one, the server span alone gives every call its trace id, correlation
/// id and outgoing `traceparent`, and each child span would cost a tracer lookup, a context copy and a task-local
/// binding for nothing anyone can see (measured: tens of microseconds on a small REST call). Turned on once, at
/// bootstrap, when spans are exported.
public enum ChildSpans {
    private static let recorded = Atomic<Bool>(false)

    /// Whether child spans are created (an exporter records them).
    public static var areRecorded: Bool { recorded.load(ordering: .relaxed) }

    /// Turns child spans on (the tracer bootstrap, when it installs an exporting tracer; tests).
    public static func record() { recorded.store(true, ordering: .relaxed) }
}

/// A child span, or nothing when child spans are not recorded: attributes and status go nowhere then, and
/// ``context`` is the enclosing span's, so propagation still names the request's trace.
public struct ChildSpan {
    let span: (any Span)?

    /// The context to propagate from: the child span's, or the enclosing one's.
    public var context: ServiceContext? { span?.context ?? ServiceContext.current }

    /// Whether attributes are worth computing.
    public var isRecording: Bool { span?.isRecording ?? false }

    /// Sets one attribute.
    public func set(_ key: String, _ value: some SpanAttributeConvertible) {
        guard let span, span.isRecording else { return }
        span.attributes[key] = value.toSpanAttribute()
    }

    /// Replaces the attributes.
    public func set(_ attributes: SpanAttributes) {
        guard let span, span.isRecording else { return }
        span.attributes = attributes
    }

    /// Marks the span failed with `error.type`.
    public func fail(_ errorType: String) {
        guard let span, span.isRecording else { return }
        span.attributes["error.type"] = errorType
        span.setStatus(SpanStatus(code: .error))
    }
}

/// Runs `body` inside a child span named `name` when child spans are recorded (``ChildSpans``), else directly.
public func withChildSpan<T>(
    _ name: String, ofKind kind: SpanKind = .internal, isolation: isolated (any Actor)? = #isolation,
    _ body: (ChildSpan) async throws -> T
) async rethrows -> T {
    guard ChildSpans.areRecorded else { return try await body(ChildSpan(span: nil)) }
    return try await withSpan(name, ofKind: kind, isolation: isolation) { span in try await body(ChildSpan(span: span)) }
}

/// The synchronous form of ``withChildSpan(_:ofKind:isolation:_:)``.
public func withChildSpan<T>(_ name: String, ofKind kind: SpanKind = .internal, _ body: (ChildSpan) throws -> T) rethrows -> T {
    guard ChildSpans.areRecorded else { return try body(ChildSpan(span: nil)) }
    return try withSpan(name, ofKind: kind) { span in try body(ChildSpan(span: span)) }
}
