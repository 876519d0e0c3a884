// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import HTTPTypes
import Tracing

/// The ServiceContext an MCP request runs under: the HTTP request's W3C `traceparent`/`tracestate` (when valid)
/// and `network.transport`. ``MCPServer`` opens the server span under it; `params._meta.traceparent` still wins.
enum TraceContextExtraction {
    static func context(_ headers: HTTPFields) -> ServiceContext {
        var context = ServiceContext.current ?? .topLevel
        context[NetworkTransportKey.self] = "tcp"
        if headers.value(MCPHeader.traceparent) != nil,
            let parent = TracePropagation.extracting(headers, using: HTTPFieldsExtractor(), into: context)
        {
            return parent
        }
        return context
    }
}

/// Reads trace headers from HTTPTypes fields. Repeated `traceparent` headers are joined with ", " and so fail the
/// strict parse, as W3C requires.
struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        switch key {
        case TraceHeader.traceparent: return carrier[MCPHeader.traceparent]
        case TraceHeader.tracestate: return carrier[MCPHeader.tracestate]
        default: return HTTPField.Name(key).flatMap { carrier[$0] }
        }
    }
}
