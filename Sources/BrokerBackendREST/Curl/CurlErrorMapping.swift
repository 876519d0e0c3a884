// SPDX-License-Identifier: Apache-2.0

import CLibCurl

extension CurlError {
    /// Classifies a failed transfer. `errorBuffer` is libcurl's per-transfer message; `tooLarge` says the write
    /// callback refused bytes over the body cap (libcurl then reports a plain write error); `freshTLSWithoutResponse`
    /// says the transfer opened a new TLS connection that broke before any response line arrived.
    static func from(code: CURLcode, errorBuffer: String, tooLarge: Bool, freshTLSWithoutResponse: Bool = false) -> CurlError {
        let summary = String(cString: curl_easy_strerror(code))
        let detail = errorBuffer.isEmpty ? summary : "\(summary): \(errorBuffer)"
        return CurlError(kind: kind(
            code: code, errorBuffer: errorBuffer, tooLarge: tooLarge, freshTLSWithoutResponse: freshTLSWithoutResponse),
                         curlCode: Int32(bitPattern: code.rawValue), detail: detail)
    }

    private static func kind(code: CURLcode, errorBuffer: String, tooLarge: Bool, freshTLSWithoutResponse: Bool) -> Kind {
        switch code {
        case CURLE_WRITE_ERROR where tooLarge:
            return .bodyTooLarge
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .couldNotResolve
        case CURLE_COULDNT_CONNECT:
            return .connectFailed
        case CURLE_OPERATION_TIMEDOUT:
            // LOW_SPEED_LIMIT/TIME aborts share this code with TIMEOUT_MS; only the message tells them apart.
            return errorBuffer.contains("too slow") ? .lowSpeed : .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED,
            CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT, CURLE_USE_SSL_FAILED:
            return .tls
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR:
            // A TLS 1.3 server checks the client certificate after the client's handshake is done, then alerts and
            // closes: libcurl sees that as a send or receive failure on a fresh connection, before any response.
            let tlsLike = errorBuffer.contains("SSL") || errorBuffer.contains("alert") || freshTLSWithoutResponse
            return tlsLike ? .tls : .other
        case CURLE_UNSUPPORTED_PROTOCOL:
            return .protocolRefused
        case CURLE_TOO_MANY_REDIRECTS:
            return .redirectNotFollowed
        case CURLE_ABORTED_BY_CALLBACK:
            return .cancelled
        default:
            return .other
        }
    }
}
