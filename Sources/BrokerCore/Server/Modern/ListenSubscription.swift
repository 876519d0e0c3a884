// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// One `subscriptions/listen` request (MCP 2026-07-28): the list changes a client opted into, delivered on that
/// request's own stream (HTTP SSE, or stdout) until the client closes it or the broker shuts down.
///
/// Subscribes to the broker's one ``ListChangeHub``, so a reload that changes what *this principal* may see sends
/// exactly the notifications that session-era clients get on their GET stream. Resource subscriptions are not
/// honoured (resources are not watched), so the acknowledgement leaves them out.
public final class ListenSubscription: Sendable {
    /// The listen request's id: every notification names it as its `subscriptionId`.
    public let id: RequestID
    /// Filter key → notification method, for the keys the client set to `true`.
    let methods: [String: String]
    let hub: ListChangeHub
    private let token: UInt64

    /// The filter keys we honour and the notification each one selects.
    static let honoured: [String: String] = [
        "toolsListChanged": "notifications/tools/list_changed",
        "promptsListChanged": "notifications/prompts/list_changed",
        "resourcesListChanged": "notifications/resources/list_changed",
    ]

    /// Validates the filter, sends the acknowledgement and starts forwarding.
    /// - Parameters:
    ///   - principal: who is listening in the generation a change installs (stdio follows the configured principal).
    ///   - send: writes one encoded message on the request's stream; called from the hub's publisher.
    public static func open(
        _ request: RPCRequest, hub: ListChangeHub, principal: @escaping @Sendable (ListChange) -> Principal, send: @escaping @Sendable ([UInt8]) -> Void
    ) -> Result<ListenSubscription, RPCError> {
        let filter: [String: JSONValue]
        switch request.params?["notifications"] {
        case nil: filter = [:]
        case .object(let o)?: filter = o
        default: return .failure(.invalidParams("'notifications' must be an object such as {\"toolsListChanged\": true}"))
        }
        var methods: [String: String] = [:]
        for (key, method) in honoured where filter[key] == .bool(true) { methods[key] = method }
        let id = request.id
        var ack: [String: JSONValue] = [:]
        for key in methods.keys { ack[key] = true }
        // Every message of the stream names its subscription, the acknowledgement too: that is how a client that
        // shares one channel among several listens (stdio) routes it.
        let meta: JSONValue = [RequestEnvelope.Key.subscriptionID: id.json]
        send(
            RPCEncoding.notification(
                RPCNotification(method: "notifications/subscriptions/acknowledged", params: ["notifications": .object(ack), "_meta": meta])))
        let wanted = Set(methods.values)
        let token = hub.subscribe { change in
            for method in change.methods(for: principal(change)) where wanted.contains(method) {
                send(RPCEncoding.notification(RPCNotification(method: method, params: ["_meta": meta])))
            }
        }
        return .success(ListenSubscription(id: id, methods: methods, hub: hub, token: token))
    }

    private init(id: RequestID, methods: [String: String], hub: ListChangeHub, token: UInt64) {
        self.id = id
        self.methods = methods
        self.hub = hub
        self.token = token
    }

    /// Stops forwarding (the stream ended).
    public func close() { hub.unsubscribe(token) }

    /// The graceful end of the stream: a `complete` result naming the subscription.
    public var completion: [UInt8] {
        RPCEncoding.result(id: id, ["resultType": "complete", "_meta": [RequestEnvelope.Key.subscriptionID: id.json]])
    }
}
