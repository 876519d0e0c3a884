// SPDX-License-Identifier: Apache-2.0

/// One HTTP exchange to perform. `url` is absolute (http/https only); headers are sent as given.
///
/// libcurl adds `Host`, `Accept: */*` (unless an `Accept` is given) and `Accept-Encoding` (every encoding it can
/// decode). It never adds `Expect: 100-continue`, nor a form `Content-Type` for a body sent without one.
struct CurlRequest: Sendable {
    /// The request method, sent verbatim (`GET`, `POST`, …).
    var method: String
    /// The absolute `http`/`https` URL.
    var url: String
    /// Header fields in send order; names and values must not contain CR, LF or NUL.
    var headers: [(String, String)]
    /// The request body; `nil` sends none (an empty body with `Content-Length: 0` for POST, PUT and PATCH).
    var body: [UInt8]?
    /// Limit on establishing the connection (TCP + TLS), per attempt.
    var connectTimeout: Duration = .seconds(5)
    /// Limit on the whole exchange, per attempt.
    var timeout: Duration = .seconds(30)
    /// Abort when fewer than this many bytes per second move for ``lowSpeedTime``.
    var lowSpeedLimit: Int = 1
    /// How long the transfer may stay below ``lowSpeedLimit`` (whole seconds, rounded up).
    var lowSpeedTime: Duration = .seconds(10)
    /// Cap on the decoded response body: a compression bomb stops here with ``CurlError/Kind/bodyTooLarge``.
    var maxBodyBytes: Int = 4 << 20
    /// Connect to this IP for the URL's host and port (`CURLOPT_RESOLVE`), so a vetted address cannot be re-resolved.
    var pinnedAddress: String? = nil
    /// Comma-separated protocols libcurl may use (`CURLOPT_PROTOCOLS_STR`).
    var allowedProtocols: String = "http,https"
    /// PEM client certificate for mutual TLS, handed to libcurl as an in-memory blob.
    var clientCertificatePEM: String? = nil
    /// PEM private key for ``clientCertificatePEM``, handed to libcurl as an in-memory blob.
    var clientKeyPEM: String? = nil
    /// A CA bundle file that replaces the system trust store for this request.
    var caBundlePath: String? = nil
    /// Disables peer and host verification. Tests only.
    var insecureSkipVerify = false

    /// A request with the given method, URL, headers and body and default limits.
    init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// A completed HTTP exchange (any status, 3xx included: redirects are never followed).
struct CurlResponse: Sendable {
    /// The HTTP status code of the final response.
    var status: Int
    /// Header fields of the final response (1xx interim responses dropped); names lowercased, in received order.
    var headers: [(String, String)]
    /// The decoded body (Content-Encoding removed).
    var body: [UInt8]
    /// The protocol version as major × 10 + minor: 10, 11, 20 or 30 (0 if libcurl did not say).
    var httpVersion: Int
    /// Wall time of the exchange as measured by libcurl.
    var totalTime: Duration
    /// Whether libcurl opened a connection for it (`CURLINFO_NUM_CONNECTS` > 0) rather than reusing one.
    var newConnection = false

    /// The first value of the header `name` (case-insensitive), if present.
    func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.0 == lowered }?.1
    }
}

/// Why an exchange produced no response.
struct CurlError: Error, Sendable, CustomStringConvertible {
    /// The failure class a caller decides on.
    enum Kind: Sendable, Equatable {
        case couldNotResolve, connectFailed, timeout, lowSpeed, bodyTooLarge, tls, cancelled, redirectNotFollowed
        case protocolRefused, other
    }

    /// The failure class.
    var kind: Kind
    /// The libcurl `CURLcode` (0 when the failure did not come from libcurl).
    var curlCode: Int32
    /// `curl_easy_strerror` plus libcurl's error buffer. Internal: for debug logs, never for clients.
    var detail: String

    /// A `kind: detail (curl code)` line.
    var description: String { "\(kind): \(detail) (curl code \(curlCode))" }
}

extension Duration {
    /// Whole milliseconds, rounded up and clamped to at least 1 ms (libcurl reads 0 as "no limit").
    var curlMilliseconds: Int {
        let (seconds, attoseconds) = components
        let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int(max(1, min(millis, Int64(Int32.max))))
    }

    /// Whole seconds, rounded up and clamped to at least 1 s.
    var curlSeconds: Int {
        let (seconds, attoseconds) = components
        let whole = seconds + (attoseconds > 0 ? 1 : 0)
        return Int(max(1, min(whole, Int64(Int32.max))))
    }
}
