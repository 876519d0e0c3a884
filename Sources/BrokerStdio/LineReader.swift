// SPDX-License-Identifier: Apache-2.0

import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One framed input line, or the report that a line was too long and was skipped.
enum InputLine: Sendable {
    case line([UInt8])
    case oversized(bytes: Int)
}

/// Reads newline-delimited messages from a file descriptor on its own thread.
///
/// `read(2)` blocks, so it runs on a dedicated thread rather than Swift's cooperative pool (two blocked pool
/// threads stall the whole daemon on a 2-core machine). Each read scans only the newly read bytes for the
/// newline, so a long message costs linear time (the official swift-sdk rescans its whole buffer per read:
/// 81 s for a 4 MiB line). A line over `maxLineBytes` is dropped as it streams in and reported once, instead of
/// being buffered. At most `window` lines wait for the consumer; beyond that the reader thread waits, which
/// pushes back on the writer of stdin.
final class LineReader: Sendable {
    let lines: AsyncStream<InputLine>
    private let continuation: AsyncStream<InputLine>.Continuation
    private let window: DispatchSemaphore

    init(fd: Int32, maxLineBytes: Int, window: Int = 64) {
        (lines, continuation) = AsyncStream.makeStream(of: InputLine.self)
        self.window = DispatchSemaphore(value: window)
        let continuation = self.continuation, sem = self.window
        let thread = Thread {
            Self.readLoop(fd: fd, maxLineBytes: maxLineBytes, continuation: continuation, window: sem)
        }
        thread.name = "mcp-stdio-reader"
        thread.start()
    }

    /// The consumer took one line: let the reader run ahead by one more.
    func consumed() { window.signal() }

    private static func readLoop(fd: Int32, maxLineBytes: Int, continuation: AsyncStream<InputLine>.Continuation, window: DispatchSemaphore) {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var current: [UInt8] = []
        var discarding = false
        var discarded = 0
        func emit(_ event: InputLine) {
            window.wait()
            continuation.yield(event)
        }
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            var start = 0
            while start < n {
                let newline = chunk[start..<n].firstIndex(of: 0x0A)
                let end = newline ?? n
                let segment = end - start
                if discarding {
                    discarded += segment
                } else if current.count + segment > maxLineBytes {
                    discarding = true
                    discarded = current.count + segment
                    current = []
                } else {
                    current.append(contentsOf: chunk[start..<end])
                }
                guard newline != nil else { break }
                if discarding {
                    emit(.oversized(bytes: discarded))
                    discarding = false
                    discarded = 0
                } else {
                    if current.last == 0x0D { current.removeLast() }
                    emit(.line(current))
                    current = []
                }
                start = end + 1
            }
        }
        // EOF: a final line without a newline still counts.
        if discarding {
            emit(.oversized(bytes: discarded))
        } else if !current.isEmpty {
            emit(.line(current))
        }
        continuation.finish()
    }
}

/// Writes whole messages to a file descriptor, in order, off the cooperative pool.
final class LineWriter: Sendable {
    private let fd: Int32
    private let queue = DispatchQueue(label: "mcp-stdio-writer")

    init(fd: Int32) { self.fd = fd }

    /// Queues one message; a newline is appended. Messages never contain raw newlines (JSON escapes them).
    func send(_ bytes: [UInt8]) {
        let fd = self.fd
        queue.async {
            var data = bytes
            data.append(0x0A)
            data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let w = write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                    if w < 0 && errno == EINTR { continue }
                    if w <= 0 { return }  // the client went away; nothing more can be delivered
                    offset += w
                }
            }
        }
    }

    /// Waits until everything queued has been written.
    func drain() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            queue.async { c.resume() }
        }
    }
}
