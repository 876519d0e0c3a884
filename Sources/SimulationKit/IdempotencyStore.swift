// SPDX-License-Identifier: Apache-2.0

import MCPCore
import Synchronization

/// Remembers the outcome of write requests by idempotency key, the way payment and ERP APIs do.
///
/// A retried write with the same key and the same payload returns the first outcome instead of writing twice;
/// the same key with a different payload is a conflict. Keys are scoped by tenant. Bounded: the oldest entries
/// are dropped beyond `capacity`.
public final class IdempotencyStore: Sendable {
    /// What a lookup found.
    public enum Lookup: Sendable {
        /// First time: do the write, then ``record(tenant:key:fingerprint:result:)``.
        case new
        /// Seen with the same payload: return this stored result.
        case replay(JSONValue)
        /// Seen with a different payload.
        case conflict
        /// The same request is still being written by a concurrent caller: retry shortly.
        case inProgress
    }

    private struct Entry {
        var fingerprint: String
        var result: JSONValue?
    }

    private let capacity: Int
    private let state = Mutex<(entries: [String: Entry], order: [String])>(([:], []))

    public init(capacity: Int = 100_000) { self.capacity = capacity }

    /// Checks a key and, when new, reserves it: a concurrent duplicate sees `.inProgress` until the first
    /// request records its result, and `.replay` after.
    public func begin(tenant: String, key: String, fingerprint: String) -> Lookup {
        let k = tenant + "\u{1F}" + key
        return state.withLock { s in
            if let e = s.entries[k] {
                guard e.fingerprint == fingerprint else { return .conflict }
                return e.result.map { .replay($0) } ?? .inProgress
            }
            s.entries[k] = Entry(fingerprint: fingerprint, result: nil)
            s.order.append(k)
            if s.order.count > capacity {
                let drop = s.order.removeFirst()
                s.entries[drop] = nil
            }
            return .new
        }
    }

    /// Stores the result of a write that ``begin(tenant:key:fingerprint:)`` reserved.
    public func record(tenant: String, key: String, fingerprint: String, result: JSONValue) {
        let k = tenant + "\u{1F}" + key
        state.withLock { s in s.entries[k] = Entry(fingerprint: fingerprint, result: result) }
    }

    /// Releases a reservation whose write failed, so a retry may try again.
    public func abandon(tenant: String, key: String) {
        let k = tenant + "\u{1F}" + key
        state.withLock { s in
            if s.entries[k]?.result == nil { s.entries[k] = nil }
        }
    }
}
