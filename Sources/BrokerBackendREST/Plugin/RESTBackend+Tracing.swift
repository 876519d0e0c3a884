// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Tracing

extension RESTBackend {
    /// Performs one HTTP exchange inside a client span `rest.request`, with its `traceparent` (and `tracestate`)
    /// added to the request so the backend's own traces and logs join the call's trace.
    ///
    /// The headers are computed here, in the async context where the span is current; the curl thread that sends
    /// them never sees task-locals.
    /// - Parameter template: the path template (`url.template`), never the filled path, which may hold identifiers.
    func tracedPerform(_ request: CurlRequest, template: String) async throws(CurlError) -> CurlResponse {
        let outcome: Result<CurlResponse, CurlError> = await withChildSpan("rest.request", ofKind: .client) { span in
            var request = request
            request.headers.append(contentsOf: TracePropagation.headers(for: span.context))
            if span.isRecording {
                var attributes: SpanAttributes = [:]
                attributes["http.request.method"] = request.method
                attributes["server.address"] = configuration.host
                attributes["server.port"] = configuration.port
                attributes["url.template"] = template
                span.set(attributes)
            }
            let result: Result<CurlResponse, CurlError>
            do throws(CurlError) { result = .success(try await curl.perform(request)) } catch { result = .failure(error) }
            if span.isRecording {
                switch result {
                case .success(let response):
                    span.set("http.response.status_code", response.status)
                    if response.status >= 500 { span.fail(String(response.status)) }
                case .failure(let error):
                    span.fail(String(describing: error.kind))
                }
            }
            return result
        }
        return try outcome.get()
    }
}
