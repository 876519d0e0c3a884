// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// A request to the HR system's REST API, as it would travel over HTTP.
public struct HRNativeRequest: Sendable {
    /// HTTP method.
    public enum Method: String, Sendable {
        /// Read.
        case get = "GET"
        /// Create.
        case post = "POST"
    }

    /// HTTP method.
    public var method: Method
    /// Path, e.g. `/ccx/api/v1/acme/workers/21000001`.
    public var path: String
    /// Query parameters.
    public var query: [String: JSONValue]
    /// JSON body, for writes.
    public var body: JSONValue?
    /// Headers: `X-API-Key`, `X-Client-Id`, `Idempotency-Key`.
    public var headers: [String: String]

    /// Creates a request.
    public init(method: Method, path: String, query: [String: JSONValue] = [:], body: JSONValue? = nil, headers: [String: String] = [:]) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.headers = headers
    }

    /// A header value, with the name matched case-insensitively as in HTTP.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.key.lowercased() == lower }?.value
    }
}

/// The HR system's answer: an HTTP-like status and its native JSON body.
public struct HRNativeResponse: Sendable {
    /// HTTP-like status (200, 201, 400, 401, 404, 409, 503).
    public var status: Int
    /// Native JSON body: `{"Report_Entry": [...], "Total": n, "Offset": o}`, `{"Worker": {...}}` or `{"errors": [...]}`.
    public var body: JSONValue

    /// Creates a response.
    public init(status: Int, body: JSONValue) {
        self.status = status
        self.body = body
    }

    static func ok(_ body: JSONValue, status: Int = 200) -> HRNativeResponse { HRNativeResponse(status: status, body: body) }

    /// A native error envelope; `extra` carries machine-readable details next to the message.
    static func error(_ status: Int, _ code: String, _ message: String, field: String? = nil, extra: [String: JSONValue] = [:]) -> HRNativeResponse {
        var entry: [String: JSONValue] = ["error": .string(message), "code": .string(code)]
        if let field { entry["field"] = .string(field) }
        for (k, v) in extra { entry[k] = v }
        return HRNativeResponse(status: status, body: ["errors": [.object(entry)]])
    }

    static let unauthorized = error(401, "UNAUTHORIZED", "Invalid credentials")
    static let unavailable = error(503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable. Please try again later.")

    static func invalidID(_ id: String, type: String = "Employee_ID", field: String = "Worker_ID") -> HRNativeResponse {
        error(404, "INVALID_ID", "Invalid ID value. '\(id)' is not a valid ID value for type = \(type)", field: field)
    }

    static func validation(_ message: String, field: String) -> HRNativeResponse { error(400, "VALIDATION", message, field: field) }

    /// A report envelope.
    static func report(_ entries: [JSONValue], total: Int, offset: Int = 0, extra: [String: JSONValue] = [:]) -> HRNativeResponse {
        var o: [String: JSONValue] = ["Report_Entry": .array(entries), "Total": .int(total), "Offset": .int(offset)]
        for (k, v) in extra { o[k] = v }
        return ok(.object(o))
    }
}
