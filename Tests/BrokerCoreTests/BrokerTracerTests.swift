// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Logging
import MCPCore
import Synchronization
import Tracing
import XCTest

/// The broker's tracer: ids, parent/child links, W3C injection and extraction, and the correlation id.
final class BrokerTracerTests: XCTestCase {
    final class Recorder: SpanRecorder {
        let spans = Mutex<[FinishedSpan]>([])
        func record(_ span: FinishedSpan) { spans.withLock { $0.append(span) } }
        var all: [FinishedSpan] { spans.withLock { $0 } }
    }

    struct DictionaryInjector: Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
    }

    struct DictionaryExtractor: Extractor {
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    }

    func testChildSpansShareTheTraceAndPointAtTheirParent() throws {
        let recorder = Recorder()
        let tracer = BrokerTracer(recorder: recorder)
        tracer.withSpan("root", ofKind: .server) { root in
            root.attributes["mcp.method.name"] = "tools/call"
            tracer.withSpan("child", ofKind: .client) { _ in
                tracer.withSpan("grandchild") { _ in }
            }
        }
        let spans = recorder.all
        XCTAssertEqual(spans.map(\.operationName), ["grandchild", "child", "root"])
        let (grandchild, child, root) = (spans[0], spans[1], spans[2])
        XCTAssertNil(root.parentSpanID)
        XCTAssertEqual(child.parentSpanID, root.ids.spanID)
        XCTAssertEqual(grandchild.parentSpanID, child.ids.spanID)
        XCTAssertEqual(Set([root.ids.traceID, child.ids.traceID, grandchild.ids.traceID]).count, 1)
        XCTAssertEqual(Set([root.ids.spanID, child.ids.spanID, grandchild.ids.spanID]).count, 3)
        XCTAssertTrue(root.ids.traceID.isValid && root.ids.spanID.isValid)
        XCTAssertEqual(root.kind, .server)
        XCTAssertEqual(root.attributes["mcp.method.name"]?.toSpanAttribute(), "tools/call")
        XCTAssertLessThanOrEqual(root.startNanoseconds, root.endNanoseconds)
    }

    func testRootSpansGetDistinctRandomTraces() {
        let tracer = BrokerTracer()
        var ids = Set<String>()
        for _ in 0..<1000 {
            let span = tracer.startSpan("s")
            ids.insert(TracePropagation.traceParent(in: span.context)?.traceID.hex ?? "")
            span.end()
        }
        XCTAssertEqual(ids.count, 1000)
        XCTAssertTrue(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) && $0 == $0.lowercased() })
    }

    func testExtractedParentIsContinuedAndInjected() throws {
        let recorder = Recorder()
        let tracer = BrokerTracer(recorder: recorder)
        var context = ServiceContext.topLevel
        let incoming = ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "tracestate": "rojo=1, congo=2"]
        tracer.extract(incoming, into: &context, using: DictionaryExtractor())
        var outgoing: [String: String] = [:]
        tracer.withSpan("server", context: context, ofKind: .server) { span in
            tracer.inject(span.context, into: &outgoing, using: DictionaryInjector())
        }
        let span = try XCTUnwrap(recorder.all.first)
        XCTAssertEqual(span.ids.traceID.hex, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(span.parentSpanID?.hex, "00f067aa0ba902b7")
        XCTAssertEqual(outgoing["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-\(span.ids.spanID.hex)-00", "the caller's sampled flag is kept")
        XCTAssertEqual(outgoing["tracestate"], "rojo=1,congo=2")
    }

    func testInvalidParentStartsANewTraceAndDropsItsTraceState() throws {
        let recorder = Recorder()
        let tracer = BrokerTracer(recorder: recorder)
        var context = ServiceContext.topLevel
        tracer.extract(
            ["traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "tracestate": "rojo=1"], into: &context,
            using: DictionaryExtractor())
        var outgoing: [String: String] = [:]
        tracer.withSpan("server", context: context) { span in tracer.inject(span.context, into: &outgoing, using: DictionaryInjector()) }
        let span = try XCTUnwrap(recorder.all.first)
        XCTAssertNil(span.parentSpanID)
        XCTAssertNotEqual(span.ids.traceID.hex, "00000000000000000000000000000000")
        XCTAssertNil(outgoing["tracestate"])
        XCTAssertEqual(outgoing["traceparent"]?.count, 55)
    }

    func testWithoutRecorderSpansCarryIdsButRecordNothing() {
        let tracer = BrokerTracer()
        let span = tracer.startSpan("quiet")
        XCTAssertFalse(span.isRecording)
        span.attributes["x"] = "y"
        XCTAssertTrue(span.attributes.isEmpty)
        XCTAssertNotNil(TracePropagation.traceParent(in: span.context))
        span.end()
    }

    func testCorrelationIdIsTheTraceIdAndLogsCarryTheSpan() throws {
        let tracer = BrokerTracer()
        try tracer.withSpan("server", ofKind: .server) { span in
            let ids = try XCTUnwrap(TracePropagation.traceParent(in: span.context))
            XCTAssertEqual(CallContext.newCorrelationID(), ids.traceID.hex)
            let context = CallContext(
                principal: Principal(id: "u", tenant: "t"), correlationID: CallContext.newCorrelationID(), deadline: .now + .seconds(1),
                logger: Logger(label: "t"))
            XCTAssertEqual(context.logger[metadataKey: "correlation_id"], .string(ids.traceID.hex))
            XCTAssertEqual(context.logger[metadataKey: "trace_id"], .string(ids.traceID.hex))
            XCTAssertEqual(context.logger[metadataKey: "span_id"], .string(ids.spanID.hex))
        }
        // Outside any span: still 32 lowercase hex characters, and fresh each time.
        let a = CallContext.newCorrelationID(), b = CallContext.newCorrelationID()
        XCTAssertEqual(a.count, 32)
        XCTAssertNotEqual(a, b)
    }

    func testMetaExtractionWinsOnlyWhenValid() throws {
        let tracer = BrokerTracer()
        var base = ServiceContext.topLevel
        tracer.extract(["traceparent": "00-11111111111111111111111111111111-2222222222222222-01"], into: &base, using: DictionaryExtractor())
        // TracePropagation.extracting goes through the bootstrapped instrument; validate the gate it applies.
        let invalid: [String: JSONValue] = ["traceparent": "00-zz"]
        XCTAssertNil(TracePropagation.extracting(invalid, using: MetaExtractor(), into: base))
        XCTAssertEqual(TracePropagation.traceParent(in: base)?.traceID.hex, "11111111111111111111111111111111")
    }

    func testTracingConfiguration() throws {
        let parsed = try BrokerConfiguration.parse(yaml: "server:\n  tracing: {}\n")
        XCTAssertNil(parsed.server.tracing.otlp)
        XCTAssertThrowsError(try BrokerConfiguration.parse(yaml: "server:\n  tracing:\n    otlp:\n      endpoint: ftp://x\n")) { error in
            XCTAssertTrue("\(error)".contains("endpoint"), "\(error)")
        }
        XCTAssertThrowsError(
            try BrokerConfiguration.parse(yaml: "server:\n  tracing:\n    otlp:\n      endpoint: http://127.0.0.1:4318\n      protocol: grpc\n")
        ) { error in XCTAssertTrue("\(error)".contains("http/json or http/protobuf"), "\(error)") }
        XCTAssertThrowsError(
            try BrokerConfiguration.parse(yaml: "server:\n  tracing:\n    otlp:\n      endpoint: http://127.0.0.1:4318\n      sample_ratio: 2\n"))
        XCTAssertThrowsError(try BrokerConfiguration.parse(yaml: "server:\n  tracing:\n    exporter: zipkin\n"), "unknown keys are refused")
        let otlp = "server:\n  tracing:\n    otlp:\n      endpoint: http://127.0.0.1:4318\n      protocol: http/json\n      sample_ratio: 0.5\n"
        if OTLPSettings.isAvailable {
            let c = try BrokerConfiguration.parse(yaml: otlp)
            XCTAssertEqual(c.server.tracing.otlp, OTLPSettings(endpoint: "http://127.0.0.1:4318", wireProtocol: .httpJSON, sampleRatio: 0.5))
        } else {
            XCTAssertThrowsError(try BrokerConfiguration.parse(yaml: otlp)) { error in
                XCTAssertTrue("\(error)".contains("built without OTLP export; build with --traits OTLP"), "\(error)")
            }
        }
    }
}
