// SPDX-License-Identifier: Apache-2.0

import CCurlShim
import CLibCurl
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The client thread's body: drains commands, drives the multi handle, completes finished transfers.
///
/// Threading — why `@unchecked Sendable` is sound: the loop is handed to its thread once and used only there;
/// `active` and every libcurl call on `multi` never leave that thread.
final class CurlMultiLoop: @unchecked Sendable {
    private let core: CurlMultiCore
    private let multi: UnsafeMutableRawPointer
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    /// How long one `curl_multi_poll` may sleep when nothing happens (wakeups and curl's timers cut it short).
    private static let pollMilliseconds: Int32 = 100

    /// A loop over `multi`, which it frees when it stops.
    init(core: CurlMultiCore, multi: UnsafeMutableRawPointer) {
        self.core = core
        self.multi = multi
    }

    /// Runs until ``CurlMultiCore/shutdown()``, then fails what is left and frees the multi handle.
    func run() {
        while true {
            let (commands, stopping) = core.shared.withLock { state in
                defer { state.commands.removeAll() }
                return (state.commands, state.stopping)
            }
            if stopping { break }
            for command in commands { apply(command) }
            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            completeFinished()
            _ = curl_multi_poll(multi, nil, 0, Self.pollMilliseconds, nil)
        }
        close()
    }

    private func apply(_ command: CurlMultiCore.Command) {
        switch command {
        case .submit(let transfer):
            if transfer.cancelRequested.load(ordering: .sequentiallyConsistent) {
                transfer.finish(.failure(Self.cancelled))
                return
            }
            switch transfer.makeEasyHandle() {
            case .failure(let error):
                transfer.finish(.failure(error))
            case .success(let easy):
                let code = curl_multi_add_handle(multi, easy)
                guard code == CURLM_OK else {
                    let detail = String(cString: curl_multi_strerror(code))
                    transfer.finish(.failure(CurlError(kind: .other, curlCode: Int32(code.rawValue), detail: detail)))
                    return
                }
                active[easy] = transfer
            }
        case .cancel(let transfer):
            guard let easy = transfer.easy, active.removeValue(forKey: easy) != nil else { return }
            _ = curl_multi_remove_handle(multi, easy)
            transfer.finish(.failure(Self.cancelled))
        }
    }

    private func completeFinished() {
        var easy: UnsafeMutableRawPointer?
        var code = CURLE_OK
        while ccurl_multi_next_done(multi, &easy, &code) == 1 {
            guard let handle = easy, let transfer = active.removeValue(forKey: handle) else { continue }
            let result = transfer.result(for: code)
            _ = curl_multi_remove_handle(multi, handle)
            transfer.finish(result)
        }
    }

    private func close() {
        // Closing under the lock: after this no submitter reserves a wakeup; the ones already reserved finish
        // before the cleanup below frees the handle they write to.
        let leftovers = core.shared.withLock { state in
            state.closed = true
            defer { state.commands.removeAll() }
            return state.commands
        }
        while core.wakeupsInFlight.load(ordering: .sequentiallyConsistent) > 0 { sched_yield() }
        for command in leftovers {
            if case .submit(let transfer) = command { transfer.finish(.failure(Self.shutDown)) }
        }
        for (easy, transfer) in active {
            _ = curl_multi_remove_handle(multi, easy)
            transfer.finish(.failure(Self.shutDown))
        }
        active.removeAll()
        _ = curl_multi_cleanup(multi)
    }

    private static let cancelled = CurlError(kind: .cancelled, curlCode: 0, detail: "cancelled")
    private static let shutDown = CurlError(kind: .cancelled, curlCode: 0, detail: "client shut down")
}
