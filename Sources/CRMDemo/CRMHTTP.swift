// SPDX-License-Identifier: Apache-2.0

import Foundation
import Hummingbird
import MCPCore

/// Small HTTP helpers shared by the CRM demo's routes: JSON responses, error bodies, query and form parsing.
enum CRMHTTP {
    /// A JSON response with `Cache-Control: no-store`.
    static func json(_ status: HTTPResponse.Status, _ value: JSONValue, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONWriter.encode(value))))
    }

    /// The API's error envelope: `{"error":{"code","message"[,"fields"]}}`.
    static func error(
        _ status: HTTPResponse.Status, code: String, message: String, fields: [FieldError] = [], headers: HTTPFields = [:]
    ) -> Response {
        var body: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        if !fields.isEmpty {
            body["fields"] = .array(fields.map { ["field": .string($0.field), "message": .string($0.message)] })
        }
        return json(status, ["error": .object(body)], headers: headers)
    }

    /// One invalid input field in a `VALIDATION_FAILED` response.
    struct FieldError: Error, Sendable, Equatable {
        /// The field's name (a JSON key or query parameter).
        let field: String
        /// What is wrong with it.
        let message: String
    }

    /// An integer query parameter within bounds; `nil` when absent, `.failure` when present but invalid.
    static func intQuery(
        _ request: Request, _ name: String, range: ClosedRange<Int>
    ) -> Result<Int?, FieldError> {
        guard let raw = request.uri.queryParameters[Substring(name)] else { return .success(nil) }
        guard let value = Int(raw), range.contains(value) else {
            return .failure(FieldError(field: name, message: "must be an integer from \(range.lowerBound) to \(range.upperBound)"))
        }
        return .success(value)
    }

    /// A string query parameter, `nil` when absent or empty.
    static func stringQuery(_ request: Request, _ name: String) -> String? {
        guard let raw = request.uri.queryParameters[Substring(name)], !raw.isEmpty else { return nil }
        return String(raw)
    }

    /// Reads a request body up to 1 MiB.
    static func body(_ request: Request) async throws -> [UInt8] {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        return Array(buffer.readableBytesView)
    }

    /// Header fields from name/value pairs (names that are not valid tokens are skipped).
    static func headers(_ pairs: KeyValuePairs<String, String>) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in pairs {
            if let name = HTTPFields.Element.Name(name) { fields[name] = value }
        }
        return fields
    }

    /// The first value of a header by lower-case name (for names `HTTPField.Name` has no constant for).
    static func header(_ request: Request, _ lowercasedName: String) -> String? {
        request.headers.first { $0.name.canonicalName == lowercasedName }?.value
    }

    /// Decodes an `application/x-www-form-urlencoded` body (`+` is a space, `%XX` escapes).
    static func formFields(_ bytes: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: bytes, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = formDecode(parts[0])
            let value = parts.count > 1 ? formDecode(parts[1]) : ""
            if fields[key] == nil { fields[key] = value }
        }
        return fields
    }

    private static func formDecode(_ s: Substring) -> String {
        let spaced = s.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// Compares two secrets in time independent of where they first differ.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }

    /// Formats seconds since 1970 as an RFC 3339 UTC timestamp (`2024-03-01T09:30:00Z`).
    static func timestamp(epochSeconds: Int64) -> String {
        let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let secs = epochSeconds - days * 86_400
        return "\(date(daysSinceEpoch: days))T\(pad(secs / 3600))" + ":\(pad(secs / 60 % 60)):\(pad(secs % 60))Z"
    }

    /// Formats a day count since 1970-01-01 as `YYYY-MM-DD` (proleptic Gregorian, Hinnant's civil-from-days).
    static func date(daysSinceEpoch: Int64) -> String {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return "\(year)-\(pad(month))-\(pad(day))"
    }

    private static func pad(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Encodes a list offset as an opaque cursor (`base64url("<kind>:<offset>")`).
    static func cursor(kind: String, offset: Int) -> String {
        Data("\(kind):\(offset)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Decodes a cursor made by ``cursor(kind:offset:)``; `nil` when malformed or of another kind.
    static func offset(fromCursor cursor: String, kind: String) -> Int? {
        var b64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64.append("=") }
        guard let data = Data(base64Encoded: b64) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard text.hasPrefix(kind + ":"), let n = Int(text.dropFirst(kind.count + 1)), n >= 0 else { return nil }
        return n
    }
}
