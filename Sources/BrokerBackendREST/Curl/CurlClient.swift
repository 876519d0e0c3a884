// SPDX-License-Identifier: Apache-2.0

import CCurlShim
import CLibCurl
import Foundation
import Synchronization

/// `curl_global_init` result; Swift runs a global's initializer exactly once, on first use, thread-safely.
private let curlGlobalInitCode: Int32 = ccurl_global_init_all()

/// A libcurl multi handle driven on its own thread; transfers are submitted from any task.
///
/// Every libcurl call except `curl_multi_wakeup` runs on the client's thread, so no blocking C call ever occupies
/// Swift's cooperative pool. Connections are kept alive and reused through the multi handle's connection cache.
final class CurlClient: Sendable {
    private let core: CurlMultiCore

    /// Starts the client thread (named `curl-<name>`). If libcurl cannot start, every ``perform(_:)`` fails `.other`.
    init(name: String) {
        core = CurlMultiCore(globalInitCode: curlGlobalInitCode)
        core.start(threadName: "curl-\(name)")
    }

    deinit { core.shutdown() }

    /// Performs one exchange. Task cancellation removes the transfer and fails it with `.cancelled` promptly.
    func perform(_ request: CurlRequest) async throws(CurlError) -> CurlResponse {
        let core = self.core
        let box = Mutex<CurlTransfer?>(nil)
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<CurlResponse, CurlError>, Never>) in
                let transfer = CurlTransfer(request: request, continuation: continuation)
                let alreadyCancelled = box.withLock { slot in
                    slot = transfer
                    return Task.isCancelled
                }
                if alreadyCancelled { transfer.cancelRequested.store(true, ordering: .sequentiallyConsistent) }
                core.submit(transfer)
            }
        } onCancel: {
            // The transfer may not exist yet; then the operation sees Task.isCancelled when it creates it.
            if let transfer = box.withLock({ $0 }) {
                transfer.cancelRequested.store(true, ordering: .sequentiallyConsistent)
                core.cancel(transfer)
            }
        }
        return try result.get()
    }

    /// Stops the thread: running and queued transfers fail with `.cancelled`, later ones fail at once. Idempotent.
    func shutdown() { core.shutdown() }
}

/// The state shared between submitters and the client thread, plus the multi handle itself.
///
/// Threading — why `@unchecked Sendable` is sound: `multi` is created in `init` and, apart from
/// `curl_multi_wakeup` (thread-safe), used only by the client thread. A submitter reserves its wakeup in
/// ``wakeupsInFlight`` under `shared`'s lock while `closed` is false, and the thread sets `closed` under that lock
/// and then waits for the count to reach zero before `curl_multi_cleanup`.
///
/// The wakeup (a write to libcurl's socket pair) runs outside the lock: inside it, the woken thread spun on the
/// lock while the submitter was still in the system call, 5 % of the broker's CPU at one connection.
final class CurlMultiCore: @unchecked Sendable {
    /// One instruction for the client thread.
    enum Command {
        case submit(CurlTransfer)
        case cancel(CurlTransfer)
    }

    /// What submitters and the thread exchange under the lock.
    struct Shared {
        /// Commands not yet taken by the thread, in submission order.
        var commands: [Command] = []
        /// Set by ``CurlMultiCore/shutdown()``: the thread stops at its next turn.
        var stopping = false
        /// Set by the thread just before it frees the multi handle; nothing may wake it after that.
        var closed = false
    }

    /// The multi handle (nil when libcurl failed to start).
    let multi: UnsafeMutableRawPointer?
    /// Commands queued for the thread, and the stop/closed flags.
    let shared = Mutex(Shared())
    /// Wakeups reserved under the lock and not yet done.
    let wakeupsInFlight = Atomic<Int>(0)

    /// Creates the multi handle, unless `curl_global_init` failed (`globalInitCode` ≠ 0).
    init(globalInitCode: Int32) {
        multi = globalInitCode == 0 ? curl_multi_init() : nil
        if multi == nil { shared.withLock { $0.closed = true } }
    }

    /// Launches the client thread.
    func start(threadName: String) {
        guard let multi else { return }
        let loop = CurlMultiLoop(core: self, multi: multi)
        let thread = Thread { loop.run() }
        thread.name = threadName
        thread.start()
    }

    /// Queues `transfer`, or fails it at once when the client is closed.
    func submit(_ transfer: CurlTransfer) {
        let accepted = shared.withLock { state -> Bool in
            guard !state.closed, !state.stopping, multi != nil else { return false }
            state.commands.append(.submit(transfer))
            wakeupsInFlight.add(1, ordering: .sequentiallyConsistent)
            return true
        }
        if accepted {
            wake()
        } else {
            let detail = multi == nil ? "libcurl failed to initialise" : "client shut down"
            transfer.finish(.failure(CurlError(kind: multi == nil ? .other : .cancelled, curlCode: 0, detail: detail)))
        }
    }

    /// Asks the thread to drop `transfer` (a no-op if it already finished).
    func cancel(_ transfer: CurlTransfer) {
        let queued = shared.withLock { state -> Bool in
            guard !state.closed, multi != nil else { return false }
            state.commands.append(.cancel(transfer))
            wakeupsInFlight.add(1, ordering: .sequentiallyConsistent)
            return true
        }
        if queued { wake() }
    }

    /// Asks the thread to stop.
    func shutdown() {
        let queued = shared.withLock { state -> Bool in
            guard !state.closed, !state.stopping, multi != nil else { return false }
            state.stopping = true
            wakeupsInFlight.add(1, ordering: .sequentiallyConsistent)
            return true
        }
        if queued { wake() }
    }

    /// Wakes the thread for a wakeup reserved under the lock; the multi handle stays alive until it is done.
    private func wake() {
        if let multi { curl_multi_wakeup(multi) }
        wakeupsInFlight.subtract(1, ordering: .sequentiallyConsistent)
    }
}
