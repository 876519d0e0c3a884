// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One bounded GET of a JWKS URL.
///
/// A data delegate rather than `URLSession.data(for:)`, because that buffers the whole body before we could look
/// at its size; here the transfer is cancelled as soon as it passes the cap. Redirects are refused: the
/// configured URL is the trust anchor, and a redirect could lead to plain HTTP.
final class JWKSDownload: NSObject, URLSessionDataDelegate, Sendable {
    private typealias Outcome = Result<[UInt8], JWKSLoadError>
    private typealias Waiter = CheckedContinuation<Outcome, Never>

    private struct State {
        var body: [UInt8] = []
        var status = 0
        var failure: JWKSLoadError?
        var continuation: Waiter?
    }

    private let maxBytes: Int
    private let state = Mutex(State())

    private init(maxBytes: Int) { self.maxBytes = maxBytes }

    static func fetch(_ url: URL, maxBytes: Int, timeout: TimeInterval) async throws(JWKSLoadError) -> [UInt8] {
        let download = JWKSDownload(maxBytes: maxBytes)
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.timeoutIntervalForResource = timeout
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.urlCache = nil
        let session = URLSession(configuration: config, delegate: download, delegateQueue: nil)
        // The session keeps its delegate alive until invalidated; invalidate once this one task is done.
        defer { session.finishTasksAndInvalidate() }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let result = await withCheckedContinuation { (c: Waiter) in
            download.state.withLock { $0.continuation = c }
            session.dataTask(with: request).resume()
        }
        return try result.get()
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let tooLarge = response.expectedContentLength > Int64(maxBytes)
        state.withLock {
            $0.status = status
            if status != 200 {
                $0.failure = JWKSLoadError("JWKS URL answered HTTP \(status), expected 200")
            } else if tooLarge {
                $0.failure = JWKSLoadError("JWKS response is larger than \(maxBytes) bytes")
            }
        }
        completionHandler(status == 200 && !tooLarge ? .allow : .cancel)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let overflow = state.withLock { s -> Bool in
            guard s.failure == nil else { return false }
            if s.body.count + data.count > maxBytes {
                s.failure = JWKSLoadError("JWKS response is larger than \(maxBytes) bytes")
                return true
            }
            s.body.append(contentsOf: data)
            return false
        }
        if overflow { dataTask.cancel() }
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let (continuation, result) = state.withLock { s -> (Waiter?, Outcome) in
            let c = s.continuation
            s.continuation = nil
            if let failure = s.failure { return (c, .failure(failure)) }
            if let error { return (c, .failure(JWKSLoadError("JWKS URL could not be fetched: \(error.localizedDescription)"))) }
            if s.status != 200 { return (c, .failure(JWKSLoadError("JWKS URL answered HTTP \(s.status), expected 200"))) }
            return (c, .success(s.body))
        }
        continuation?.resume(returning: result)
    }
}
