// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Synchronization

/// Server-side state behind the opaque `next_cursor` of a truncated result.
///
/// The cursor the client sees is 128 random bits; the query, its bound parameters and the offset stay here, bound
/// to the tenant and principal that ran the query. A cursor presented by anyone else, after expiry, or for
/// another tool is simply unknown. Bounded: the oldest entries are dropped beyond `capacity`.
final class ResultCursors: Sendable {
    struct Page: Sendable {
        let tool: String
        let tenant: String
        let principal: String
        let sql: String
        let parameters: [String?]
        let offset: Int
        let expires: ContinuousClock.Instant
    }

    private let state = Mutex<(pages: [String: Page], order: [String])>(([:], []))
    let capacity: Int
    let lifetime: Duration

    init(capacity: Int = 10_000, lifetime: Duration = .seconds(600)) {
        self.capacity = capacity
        self.lifetime = lifetime
    }

    /// Stores the state of the next page and returns its cursor.
    func issue(tool: String, context: CallContext, sql: String, parameters: [String?], offset: Int) -> String {
        var g = SystemRandomNumberGenerator()
        let id = "c" + String(g.next() as UInt64, radix: 36) + String(g.next() as UInt64, radix: 36)
        let page = Page(
            tool: tool, tenant: context.principal.tenant, principal: context.principal.id, sql: sql, parameters: parameters,
            offset: offset, expires: .now + lifetime)
        state.withLock { s in
            s.pages[id] = page
            s.order.append(id)
            while s.order.count > capacity { s.pages[s.order.removeFirst()] = nil }
        }
        return id
    }

    /// The page behind a cursor, if it exists, is unexpired and belongs to this caller and tool.
    func redeem(_ id: String, tool: String, context: CallContext) -> Page? {
        state.withLock { s in
            guard let p = s.pages[id], p.tool == tool, p.tenant == context.principal.tenant, p.principal == context.principal.id,
                p.expires > .now
            else { return nil }
            return p
        }
    }
}
