// SPDX-License-Identifier: Apache-2.0

import CPGQuery
import Foundation
import MCPCore

/// What libpg_query made of a SQL text.
enum PGParseOutcome: Sendable {
    /// The raw parse tree (`{"version":…,"stmts":[…]}`).
    case tree(JSONValue)
    /// The parser refused the text; `cursor` is the 1-based character position (0 when unknown).
    case syntaxError(message: String, cursor: Int)
    /// The tree is deeper than ``PGQueryParser/maxTreeDepth``.
    case tooDeep
    /// The parser produced nothing readable; callers fail closed.
    case unreadable
}

/// The bridge to libpg_query (the real PostgreSQL 15 grammar) that owns every C allocation it touches.
enum PGQueryParser {
    /// Deepest JSON nesting of a parse tree the gate reads (≈ 500 nested expression levels).
    static let maxTreeDepth = 1000

    /// Parses `sql` (which must not contain NUL) and returns its tree as JSON.
    ///
    /// CPU-only and thread-safe (libpg_query keeps its memory contexts per thread), but it recurses once per
    /// nesting level: call it through ``DeepStack/run(stackBytes:timeout:_:)``.
    static func parse(_ sql: String) -> PGParseOutcome {
        let result = sql.withCString { pg_query_parse($0) }
        // Ownership: every field of the result belongs to libpg_query until this call, on every path.
        defer { pg_query_free_parse_result(result) }
        if let error = result.error {
            let message = error.pointee.message.map { String(cString: $0) } ?? "syntax error"
            return .syntaxError(message: message, cursor: Int(error.pointee.cursorpos))
        }
        guard let text = result.parse_tree else { return .unreadable }
        let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(text), count: strlen(text))
        do {
            return .tree(try JSONParser.parse(bytes, limits: .init(maxDepth: maxTreeDepth, rejectNUL: true)))
        } catch {
            // The only limit a well-formed libpg_query document can hit is depth; anything else fails closed.
            return error.reason.hasPrefix("nesting") ? .tooDeep : .unreadable
        }
    }
}

/// Runs CPU-only work that recurses deeply on a fresh thread with a stack of known size.
///
/// libpg_query and our JSON reader recurse once per nesting level: ~4,000 levels (what 8 KiB of `- - - … a`
/// produces) need between 512 KiB and 1 MiB of stack, more than some callers' threads have (a crash there would
/// take the whole broker down). The work is short (well under a millisecond for 8 KiB), so the caller waits.
enum DeepStack {
    /// Runs `body` on a new thread with `stackBytes` of stack; `nil` if it did not finish within `timeout`.
    static func run<T: Sendable>(
        stackBytes: Int, timeout: Duration = .seconds(5), _ body: @escaping @Sendable () -> T
    ) -> T? {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.value = body()
            done.signal()
        }
        thread.stackSize = stackBytes
        thread.name = "sql-gate-parse"
        thread.start()
        let (seconds, attoseconds) = timeout.components
        let nanos = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        guard done.wait(timeout: .now() + .nanoseconds(nanos)) == .success else { return nil }
        return box.value
    }
}

// Written once by the worker thread before it signals the semaphore and read by the caller only after a
// successful wait, which orders the two accesses; after a timeout the caller never reads it.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
