// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Dispatch

// The command runs as a detached task on Swift's global pool while the main thread waits for it. An async `@main`
// would instead end the main thread in `dispatch_main`, and valgrind 3.19 (Debian 12), which bench/callgrind.sh
// counts the per-call instructions with, cannot run such a process. Nothing in the broker uses the main actor.
// Detached: top-level code is main-actor isolated, and a task inheriting that would wait for a main thread that
// never drains its queue.
let finished = DispatchSemaphore(value: 0)
Task.detached {
    await BrokerCommand.main()
    finished.signal()
}
finished.wait()
