// SPDX-License-Identifier: Apache-2.0

import MCPCore
import Synchronization

/// The one place list changes are announced: after a reload swaps generations, each transport subscribed here
/// hears of it and tells its open sessions whose visible lists changed.
///
/// The transports (HTTP GET streams, stdio) subscribe today; `subscriptions/listen` (MCP 2026-07-28) can
/// subscribe the same way.
public final class ListChangeHub: Sendable {
    public typealias Listener = @Sendable (ListChange) -> Void

    private struct State {
        var listeners: [UInt64: Listener] = [:]
        var next: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Registers `listener`; returns the token for ``unsubscribe(_:)``.
    public func subscribe(_ listener: @escaping Listener) -> UInt64 {
        state.withLock { s in
            s.next += 1
            s.listeners[s.next] = listener
            return s.next
        }
    }

    public func unsubscribe(_ token: UInt64) { _ = state.withLock { $0.listeners.removeValue(forKey: token) } }

    /// Tells every listener (outside the lock: a listener may write to a stream).
    public func publish(_ change: ListChange) {
        let listeners = state.withLock { Array($0.listeners.values) }
        for listener in listeners { listener(change) }
    }
}

/// A swap from one server to the next: which list notifications a given principal needs.
///
/// Compares the policy-filtered lists of the old and new generation for the principal's visibility class, once
/// per class (the lists are cached per class anyway), so thousands of sessions cost a few comparisons.
public final class ListChange: Sendable {
    public let old: MCPServer
    public let new: MCPServer
    private let memo = Mutex<[String: [String]]>([:])

    public init(old: MCPServer, new: MCPServer) {
        self.old = old
        self.new = new
    }

    /// The notification methods `principal` needs (`notifications/tools/list_changed`, …), empty when none.
    public func methods(for principal: Principal) -> [String] {
        let key = old.settings.policy.visibilityClass(of: principal) + "\u{1E}" + new.settings.policy.visibilityClass(of: principal)
        if let hit = memo.withLock({ $0[key] }) { return hit }
        let a = old.visible.lists(for: principal), b = new.visible.lists(for: principal)
        var out: [String] = []
        if a.tools != b.tools { out.append("notifications/tools/list_changed") }
        if a.resources != b.resources || a.templates != b.templates { out.append("notifications/resources/list_changed") }
        if a.prompts != b.prompts { out.append("notifications/prompts/list_changed") }
        memo.withLock { $0[key] = out }
        return out
    }

    /// The encoded notifications for `principal`.
    public func notifications(for principal: Principal) -> [[UInt8]] {
        methods(for: principal).map { RPCEncoding.notification(RPCNotification(method: $0)) }
    }
}
