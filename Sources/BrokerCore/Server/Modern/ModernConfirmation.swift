// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// Confirmation of a `confirm: true` tool for a 2026-07-28 client, through MRTR (spec 2.5): the server cannot send
/// `elicitation/create` any more, so round 1 answers `input_required` with the question and a sealed
/// `requestState`, and round 2 (the retry carrying `inputResponses` and the state) runs the tool.
///
/// The state is the only thing tying round 2 to round 1, and the client controls it: it is sealed (AEAD), bound to
/// tenant, principal, tool and argument digest, expiring and single-use (``RequestStateSealer``), so an altered,
/// replayed, expired or borrowed state runs nothing. Any replica with the same key can verify it, and with a shared
/// store single use holds across replicas too.
enum ModernConfirmation {
    /// The `inputRequests` key of our question.
    static let key = "confirm"

    /// What round `n` of a call asks for.
    enum Step {
        /// Ask (again): the `input_required` result.
        case ask(JSONValue)
        /// The user approved: run the tool.
        case approved
        /// The user declined, or the state was refused: the error to answer with, and the audit's rule.
        case refused(BrokerError, rule: String?)
    }

    /// Decides the step for this call. With `store`, a state opens once across every replica sharing it.
    static func step(_ call: ToolCall, sealer: RequestStateSealer, store: (any SharedStateStore)? = nil, metrics: BrokerMetrics = .disabled) async -> Step {
        let params = call.request.params ?? [:]
        let binding = RequestStateBinding(
            tenant: call.context.principal.tenant, principal: call.context.principal.id, tool: call.name,
            argumentsDigest: RequestStateBinding.digest(of: call.arguments))
        let answer = params["inputResponses"]?[key]
        guard let raw = params["requestState"] else {
            if answer != nil {
                return .refused(invalid(call.name, "arrived without its requestState"), rule: "confirm-state-missing")
            }
            return ask(call, binding: binding, sealer: sealer)
        }
        guard let state = raw.stringValue else { return .refused(invalid(call.name, "is malformed"), rule: "confirm-state-malformed") }
        if case .failure(let refusal) = await sealer.open(state, for: binding, store: store, metrics: metrics) {
            return .refused(invalid(call.name, phrase(refusal)), rule: "confirm-state-\(refusal.reason)")
        }
        // A valid state without an answer: ask again rather than fail (spec 2.5).
        guard let answer else { return ask(call, binding: binding, sealer: sealer) }
        if answer["action"] == "accept", answer["content"]?["approve"] == .bool(true) { return .approved }
        return .refused(BrokerError(.declined, "You did not approve \(call.name), so nothing was changed."), rule: nil)
    }

    /// What happened to a refused state, as the middle of the sentence ``invalid(_:_:)`` builds.
    static func phrase(_ refusal: RequestStateRefusal) -> String {
        switch refusal {
        case .malformed: "is malformed"
        case .tampered: "was altered (or sealed with a key this broker no longer has)"
        case .expired: "has expired"
        case .mismatched: "was issued for another call (a different tool, arguments or identity)"
        case .replayed: "was already used"
        }
    }

    static func invalid(_ tool: String, _ why: String) -> BrokerError {
        BrokerError(.forbidden, "The confirmation for \(tool) \(why), so nothing was changed. Call \(tool) again to get a new confirmation request.")
    }

    /// Round 1: the question, with a fresh state. A client that declared no elicitation cannot be asked.
    static func ask(_ call: ToolCall, binding: RequestStateBinding, sealer: RequestStateSealer) -> Step {
        guard call.session.supportsElicitation else { return .refused(MCPServer.cannotConfirm(call.tool), rule: "confirm-unsupported") }
        var elicitation = MCPServer.confirmationRequest(call.tool, arguments: call.arguments)
        elicitation["mode"] = "form"
        return .ask([
            "resultType": "input_required",
            "inputRequests": [key: ["method": "elicitation/create", "params": .object(elicitation)]],
            "requestState": .string(sealer.seal(binding)),
        ])
    }
}
