// SPDX-License-Identifier: Apache-2.0

import CCurlShim
import CLibCurl
import Synchronization

/// One submitted exchange: the request, the continuation to complete, and (on the client thread) its easy handle
/// and the bytes the callbacks collect.
///
/// Threading — why `@unchecked Sendable` is sound: the box is created by the submitting task and then handed to the
/// client thread through a `Mutex`-guarded queue; from then on every mutable field is touched only on that thread
/// (libcurl runs the callbacks there too). The one field read from other threads, `cancelRequested`, is an `Atomic`.
final class CurlTransfer: @unchecked Sendable {
    /// The exchange to perform.
    let request: CurlRequest
    /// Set by the submitter's cancellation handler, read by the client thread when it picks the transfer up.
    let cancelRequested = Atomic<Bool>(false)

    private var continuation: CheckedContinuation<Result<CurlResponse, CurlError>, Never>?
    private(set) var easy: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var resolveList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var responseHeaders: [(String, String)] = []
    private var body: [UInt8] = []
    private var bodyTooLarge = false
    private var sawStatusLine = false

    /// A transfer that completes `continuation` exactly once.
    init(request: CurlRequest, continuation: CheckedContinuation<Result<CurlResponse, CurlError>, Never>) {
        self.request = request
        self.continuation = continuation
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        releaseHandle()
        errorBuffer.deallocate()
    }

    /// Completes the continuation (later calls are ignored) and frees the easy handle. Client thread only, after the
    /// handle has left the multi handle.
    func finish(_ result: Result<CurlResponse, CurlError>) {
        releaseHandle()
        continuation?.resume(returning: result)
        continuation = nil
    }

    private func releaseHandle() {
        if let easy { curl_easy_cleanup(easy) }
        easy = nil
        curl_slist_free_all(headerList)
        headerList = nil
        curl_slist_free_all(resolveList)
        resolveList = nil
    }

    // MARK: - Setup (client thread)

    /// Creates and configures the easy handle. Client thread only.
    func makeEasyHandle() -> Result<UnsafeMutableRawPointer, CurlError> {
        guard let target = CurlTarget.parse(request.url) else {
            return .failure(CurlError(kind: .other, curlCode: 0, detail: "malformed URL"))
        }
        let allowed = request.allowedProtocols.lowercased().split(separator: ",").map(\.curlTrimmed)
        guard allowed.contains(target.scheme) else {
            return .failure(CurlError(kind: .protocolRefused, curlCode: 1, detail: "scheme \(target.scheme) not allowed"))
        }
        guard CurlTransfer.isToken(request.method) else {
            return .failure(CurlError(kind: .other, curlCode: 0, detail: "method is not an HTTP token"))
        }
        for (name, value) in request.headers where !CurlTransfer.isSafeHeader(name: name, value: value) {
            return .failure(CurlError(kind: .other, curlCode: 0, detail: "header \(name.debugDescription) is not sendable"))
        }
        guard let easy = curl_easy_init() else {
            return .failure(CurlError(kind: .other, curlCode: 0, detail: "curl_easy_init failed"))
        }
        self.easy = easy
        let code = configure(easy, target: target)
        guard code == CURLE_OK else {
            return .failure(CurlError.from(code: code, errorBuffer: "", tooLarge: false))
        }
        return .success(easy)
    }

    private func configure(_ easy: UnsafeMutableRawPointer, target: CurlTarget) -> CURLcode {
        let request = self.request
        var codes: [CURLcode] = []
        func long(_ option: CURLoption, _ value: Int) { codes.append(ccurl_easy_setopt_long(easy, option, value)) }
        func string(_ option: CURLoption, _ value: String) { codes.append(ccurl_easy_setopt_string(easy, option, value)) }

        string(CURLOPT_URL, request.url)
        string(CURLOPT_PROTOCOLS_STR, request.allowedProtocols)
        string(CURLOPT_REDIR_PROTOCOLS_STR, request.allowedProtocols)
        long(CURLOPT_NOSIGNAL, 1)
        long(CURLOPT_FOLLOWLOCATION, 0)
        // libcurl otherwise takes a proxy from http_proxy/https_proxy/all_proxy in the environment: the request would
        // go to whatever that names, around the pinned, SSRF-checked address. "" means no proxy, whatever the env says.
        string(CURLOPT_PROXY, "")
        // Send the path exactly as built: libcurl must not collapse "/a/../b" (RFC 3986 dot-segment removal) into a
        // path the operator never declared. Dot segments are refused before a request is built anyway.
        long(CURLOPT_PATH_AS_IS, 1)
        long(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS)
        string(CURLOPT_ACCEPT_ENCODING, "")
        long(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.curlMilliseconds)
        long(CURLOPT_TIMEOUT_MS, request.timeout.curlMilliseconds)
        long(CURLOPT_LOW_SPEED_LIMIT, max(0, request.lowSpeedLimit))
        long(CURLOPT_LOW_SPEED_TIME, request.lowSpeedTime.curlSeconds)
        codes.append(ccurl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer)))

        let method = request.method.uppercased()
        if method == "HEAD" {
            long(CURLOPT_NOBODY, 1)
        } else if method != "GET" || request.body != nil {
            let bytes = request.body ?? []
            if request.body != nil || ["POST", "PUT", "PATCH"].contains(method) {
                codes.append(ccurl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count)))
                codes.append(bytes.withUnsafeBufferPointer { buffer in
                    // COPYPOSTFIELDS copies `POSTFIELDSIZE` bytes; an empty body still needs a valid pointer.
                    buffer.baseAddress.map { ccurl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0)) }
                        ?? ccurl_easy_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, "")
                })
            }
            string(CURLOPT_CUSTOMREQUEST, request.method)
        }

        var lines = request.headers.map { $0.1.isEmpty ? "\($0.0);" : "\($0.0): \($0.1)" }
        let names = Set(request.headers.map { $0.0.lowercased() })
        if !names.contains("expect") { lines.append("Expect:") }
        if !names.contains("content-type") { lines.append("Content-Type:") }
        for line in lines { headerList = curl_slist_append(headerList, line) }
        codes.append(ccurl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList))

        if let pinned = request.pinnedAddress, let host = target.host, let port = target.port {
            let address = pinned.contains(":") && !pinned.hasPrefix("[") ? "[\(pinned)]" : pinned
            resolveList = curl_slist_append(nil, "\(host):\(port):\(address)")
            codes.append(ccurl_easy_setopt_slist(easy, CURLOPT_RESOLVE, resolveList))
        }
        if let caBundlePath = request.caBundlePath { string(CURLOPT_CAINFO, caBundlePath) }
        if let certificate = request.clientCertificatePEM {
            string(CURLOPT_SSLCERTTYPE, "PEM")
            codes.append(CurlTransfer.setBlob(easy, CURLOPT_SSLCERT_BLOB, certificate))
        }
        if let key = request.clientKeyPEM {
            string(CURLOPT_SSLKEYTYPE, "PEM")
            codes.append(CurlTransfer.setBlob(easy, CURLOPT_SSLKEY_BLOB, key))
        }
        if request.insecureSkipVerify {
            long(CURLOPT_SSL_VERIFYPEER, 0)
            long(CURLOPT_SSL_VERIFYHOST, 0)
        }

        let userdata = Unmanaged.passUnretained(self).toOpaque()
        codes.append(ccurl_easy_setopt_callback(easy, CURLOPT_WRITEFUNCTION, curlWriteCallback))
        codes.append(ccurl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, userdata))
        codes.append(ccurl_easy_setopt_callback(easy, CURLOPT_HEADERFUNCTION, curlHeaderCallback))
        codes.append(ccurl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, userdata))
        return codes.first { $0 != CURLE_OK } ?? CURLE_OK
    }

    private static func setBlob(_ easy: UnsafeMutableRawPointer, _ option: CURLoption, _ text: String) -> CURLcode {
        var bytes = Array(text.utf8)
        let code = bytes.withUnsafeBufferPointer { ccurl_easy_setopt_blob_copy(easy, option, $0.baseAddress, $0.count) }
        // libcurl holds its own copy; wipe ours so key material does not linger in freed memory.
        for index in bytes.indices { bytes[index] = 0 }
        return code
    }

    private static func isSafeHeader(name: String, value: String) -> Bool {
        isToken(name) && !value.utf8.contains { $0 == 0 || $0 == 10 || $0 == 13 }
    }

    /// RFC 9110 `token`: what a method or a field name may consist of (no spaces, separators or controls).
    private static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenByte)
    }

    /// One `tchar`; a switch rather than a set, because it runs for every header of every request.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"): true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    // MARK: - Callbacks and completion (client thread)

    /// Appends decoded body bytes; refuses (returns false) once they would exceed ``CurlRequest/maxBodyBytes``.
    fileprivate func appendBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard body.count + bytes.count <= request.maxBodyBytes else {
            bodyTooLarge = true
            return false
        }
        // Size the buffer once from Content-Length (a hint: capped, and wrong for compressed bodies) instead of
        // growing it chunk by chunk, each growth copying everything received so far.
        if body.capacity == 0, let length = responseHeaders.first(where: { $0.0 == "content-length" }).flatMap({ Int($0.1) }), length > 0 {
            body.reserveCapacity(min(length, request.maxBodyBytes))
        }
        body.append(contentsOf: bytes)
        return true
    }

    /// Records one raw header line; a status line starts a new response (so only the last one's fields remain).
    /// Parsed as bytes: it runs for every header of every response, and String scanning showed in profiles.
    fileprivate func appendHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        var end = bytes.count
        while end > 0, isBlank(bytes[end - 1]) { end -= 1 }
        guard end > 0 else { return }
        if end >= 5, bytes[0] == UInt8(ascii: "H"), bytes[1] == UInt8(ascii: "T"), bytes[2] == UInt8(ascii: "T"),
            bytes[3] == UInt8(ascii: "P"), bytes[4] == UInt8(ascii: "/")
        {
            sawStatusLine = true
            responseHeaders.removeAll()
            return
        }
        if bytes[0] == 0x20 || bytes[0] == 0x09 {
            // obs-fold: a continuation of the previous field's value.
            guard !responseHeaders.isEmpty else { return }
            var start = 0
            while start < end, isBlank(bytes[start]) { start += 1 }
            responseHeaders[responseHeaders.count - 1].1 += " " + String(decoding: bytes[start..<end], as: UTF8.self)
            return
        }
        guard let colon = bytes[0..<end].firstIndex(of: UInt8(ascii: ":")) else { return }
        // Field names are ASCII tokens: lowercase them byte by byte.
        let name = String(unsafeUninitializedCapacity: colon) { out in
            for i in 0..<colon {
                let b = bytes[i]
                out[i] = b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b
            }
            return colon
        }
        var start = colon + 1
        while start < end, isBlank(bytes[start]) { start += 1 }
        responseHeaders.append((name, String(decoding: bytes[start..<end], as: UTF8.self)))
    }

    /// Turns libcurl's verdict into the transfer's result.
    func result(for code: CURLcode) -> Result<CurlResponse, CurlError> {
        guard code == CURLE_OK, let easy else {
            var newConnections = 0
            if let easy { _ = ccurl_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &newConnections) }
            let isTLS = request.url.lowercased().hasPrefix("https:")
            return .failure(CurlError.from(
                code: code, errorBuffer: String(cString: errorBuffer), tooLarge: bodyTooLarge,
                freshTLSWithoutResponse: isTLS && newConnections > 0 && !sawStatusLine))
        }
        var status = 0
        var version = 0
        var micros: curl_off_t = 0
        var connects = 0
        _ = ccurl_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &connects)
        _ = ccurl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        _ = ccurl_easy_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
        _ = ccurl_easy_getinfo_off_t(easy, CURLINFO_TOTAL_TIME_T, &micros)
        return .success(CurlResponse(
            status: status, headers: responseHeaders, body: body, httpVersion: CurlTransfer.versionNumber(version),
            totalTime: .microseconds(Int64(micros)), newConnection: connects > 0))
    }

    private static func versionNumber(_ curlVersion: Int) -> Int {
        switch curlVersion {
        case CURL_HTTP_VERSION_1_0: 10
        case CURL_HTTP_VERSION_1_1: 11
        case CURL_HTTP_VERSION_2_0: 20
        case CURL_HTTP_VERSION_3: 30
        default: 0
        }
    }
}

private func curlWriteCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    // Returning anything but `length` makes libcurl stop with CURLE_WRITE_ERROR.
    return transfer.appendBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private func curlHeaderCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    transfer.appendHeaderLine(UnsafeRawBufferPointer(start: data, count: length))
    return length
}
