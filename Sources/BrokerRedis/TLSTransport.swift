// SPDX-License-Identifier: Apache-2.0

import COpenSSL

#if canImport(Glibc)
import Glibc
#endif

/// TLS over memory BIOs: OpenSSL never touches the socket, the connection loop moves the bytes.
///
/// The certificate chain is verified against `tls_ca_file` (or the system store) and must name
/// `tls_server_name` (or the host); TLS 1.2 at least. Used by one connection thread only.
final class TLSTransport: RedisTransport {
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    /// What the peer sent, for OpenSSL to read (owned by `ssl`).
    private let input: OpaquePointer
    /// What OpenSSL wrote for the peer (owned by `ssl`).
    private let output: OpaquePointer
    private var established = false
    private var scratch = [UInt8](repeating: 0, count: 16 * 1024)

    init(settings: RedisTLSSettings) throws(RedisTransportError) {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw Self.error("cannot create a TLS context") }
        _ = copenssl_ctx_set_min_tls12(context)
        if let ca = settings.caFile {
            guard SSL_CTX_load_verify_locations(context, ca, nil) == 1 else {
                SSL_CTX_free(context)
                throw Self.error("cannot load tls_ca_file \(ca)")
            }
        } else if SSL_CTX_set_default_verify_paths(context) != 1 {
            SSL_CTX_free(context)
            throw Self.error("cannot load the system CA store")
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        guard let ssl = SSL_new(context), let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            SSL_CTX_free(context)
            throw Self.error("cannot create a TLS session")
        }
        SSL_set_bio(ssl, input, output)
        SSL_set_connect_state(ssl)
        let name = settings.serverName
        if Self.isIPAddress(name) {
            _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name)
        } else {
            _ = SSL_set1_host(ssl, name)
            _ = copenssl_set_sni(ssl, name)
        }
        self.context = context
        self.ssl = ssl
        self.input = input
        self.output = output
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    func handshake(outbound: inout [UInt8]) throws(RedisTransportError) -> Bool {
        if established { return true }
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        drain(into: &outbound)
        if result == 1 {
            established = true
            return true
        }
        let code = SSL_get_error(ssl, result)
        if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE { return false }
        throw failure("TLS handshake failed")
    }

    func received(_ bytes: UnsafeRawBufferPointer, plain: inout [UInt8], outbound: inout [UInt8]) throws(RedisTransportError) {
        if let base = bytes.baseAddress, !bytes.isEmpty {
            // A memory BIO takes everything written to it.
            guard BIO_write(input, base, Int32(clamping: bytes.count)) == Int32(clamping: bytes.count) else { throw Self.error("TLS buffer write failed") }
        }
        guard established else { return }
        ERR_clear_error()
        while true {
            let count = scratch.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 {
                plain.append(contentsOf: scratch[..<Int(count)])
                continue
            }
            let code = SSL_get_error(ssl, count)
            if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE { break }
            if code == SSL_ERROR_ZERO_RETURN { throw RedisTransportError(description: "connection closed by the service (TLS close_notify)") }
            throw failure("TLS read failed")
        }
        drain(into: &outbound)
    }

    func send(_ bytes: [UInt8], outbound: inout [UInt8]) throws(RedisTransportError) {
        guard !bytes.isEmpty else { return }
        ERR_clear_error()
        let written = bytes.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32(clamping: $0.count)) }
        guard written == Int32(clamping: bytes.count) else { throw failure("TLS write failed") }
        drain(into: &outbound)
    }

    /// Moves what OpenSSL produced for the peer into `outbound`.
    private func drain(into outbound: inout [UInt8]) {
        while BIO_ctrl_pending(output) > 0 {
            let count = scratch.withUnsafeMutableBytes { BIO_read(output, $0.baseAddress, Int32($0.count)) }
            guard count > 0 else { return }
            outbound.append(contentsOf: scratch[..<Int(count)])
        }
    }

    /// The most useful reason: a certificate that did not verify, else OpenSSL's first queued error.
    private func failure(_ what: String) -> RedisTransportError {
        let verify = SSL_get_verify_result(ssl)
        if verify != X509_V_OK {
            return RedisTransportError(description: "\(what): certificate verification failed: \(String(cString: X509_verify_cert_error_string(verify)))")
        }
        return Self.error(what)
    }

    private static func error(_ what: String) -> RedisTransportError {
        let code = ERR_get_error()
        guard code != 0 else { return RedisTransportError(description: what) }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let detail = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return RedisTransportError(description: "\(what): \(detail)")
    }

    private static func isIPAddress(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }
}
