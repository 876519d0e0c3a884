// SPDX-License-Identifier: Apache-2.0

extension RequestStateSealer {
    /// ``open(_:for:)`` with single use enforced across replicas: the state's identity is claimed in `store`
    /// (`rs:<id>`, set only if absent, expiring with the state), so a state replayed to any replica sharing the store
    /// is refused as `replayed`.
    ///
    /// Without a store this is exactly ``open(_:for:)``. When the store is marked unavailable or the claim fails, the
    /// identity goes into this process's set instead (a replay to another replica could then open once more there)
    /// and `mcp_broker_shared_state_fallbacks_total{operation="request_state"}` counts it. A state the store accepted
    /// is also recorded locally, so this replica refuses its replay even while the store is down later.
    public func open(
        _ token: String, for binding: RequestStateBinding, store: (any SharedStateStore)?, metrics: BrokerMetrics = .disabled
    ) async -> Result<Void, RequestStateRefusal> {
        guard let store else { return open(token, for: binding) }
        let payload: RequestStatePayload, current: Int64
        switch verify(token, for: binding) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let checked): (payload, current) = checked
        }
        let expiresAt = payload.expiresAtMilliseconds
        if store.isAvailable {
            // Verified as unexpired, so at least 1 ms remains.
            let ttl = Duration.milliseconds(max(1, expiresAt &- current))
            if let first = try? await store.claim(Self.usedKey(payload.id), value: "1", ttl: ttl) {
                guard first else { return .failure(.replayed) }
                _ = used.insert(payload.id, expiresAt: expiresAt, now: current)
                return .success(())
            }
        }
        metrics.recordSharedStateFallback(.requestState)
        guard used.insert(payload.id, expiresAt: expiresAt, now: current) else { return .failure(.replayed) }
        return .success(())
    }

    /// `rs:<32 hex digits>`: the identity is random, fixed-size and says nothing about the call.
    static func usedKey(_ id: RequestStateID) -> String {
        var bytes: [UInt8] = []
        SealedBytes.append(id.high, to: &bytes)
        SealedBytes.append(id.low, to: &bytes)
        return "rs:" + Hex.lowercase(bytes)
    }
}
