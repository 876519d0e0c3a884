// SPDX-License-Identifier: Apache-2.0

import Foundation
import MCPCore

/// Faults applied to every `/api` request, set through `POST /_control/faults`.
struct APIFaults: Sendable, Equatable {
    /// Delay before each API request is handled.
    var latencyMs = 0
    /// How many of the next API requests fail with ``failStatus``.
    var failNext = 0
    /// The status injected failures answer with.
    var failStatus = 503
    /// `Retry-After` seconds sent with injected failures (0: none).
    var retryAfter = 0

    /// The wire form, as accepted by `POST /_control/faults`.
    var json: JSONValue {
        ["latency_ms": .int(latencyMs), "fail_next": .int(failNext), "fail_status": .int(failStatus), "retry_after": .int(retryAfter)]
    }
}

/// The outcome of creating an account with an optional idempotency key.
enum CreateOutcome: Sendable {
    /// A new account (201).
    case created(Account)
    /// The stored result of an earlier request with the same key and body (200).
    case replayed(Account)
    /// The key was used before with a different body (409).
    case conflict
}

/// All mutable state of the demo CRM: data, idempotency records, OAuth tokens, faults and counters.
actor CRMStore {
    private(set) var accounts: [Account]
    private var accountIndex: [String: Int]
    private let contactsByAccount: [String: [Contact]]
    private(set) var opportunities: [Opportunity]
    private var idempotency: [String: (fingerprint: [UInt8], account: Account)] = [:]
    private var tokens: [String: ContinuousClock.Instant] = [:]
    private var flakyCalls: [String: Int] = [:]
    private var requestCounts: [String: Int] = [:]
    private var tokensIssued = 0
    /// The faults currently applied to `/api` requests.
    private(set) var faults = APIFaults()

    /// Seeds the store with ``CRMSeed``'s deterministic data.
    init() {
        let accounts = CRMSeed.accounts()
        self.accounts = accounts
        accountIndex = Dictionary(uniqueKeysWithValues: accounts.enumerated().map { ($1.id, $0) })
        var contacts: [String: [Contact]] = [:]
        for n in 1...CRMSeed.accountCount { contacts[CRMSeed.accountID(n)] = CRMSeed.contacts(forAccount: n) }
        contactsByAccount = contacts
        opportunities = CRMSeed.opportunities()
    }

    /// The account with `id`, if any.
    func account(_ id: String) -> Account? { accountIndex[id].map { accounts[$0] } }

    /// The contacts of an account; `nil` when the account does not exist.
    func contacts(ofAccount id: String) -> [Contact]? {
        guard accountIndex[id] != nil else { return nil }
        return contactsByAccount[id] ?? []
    }

    /// Creates an account, honouring an idempotency key over the canonical JSON of the request body.
    func createAccount(name: String, industry: String, country: String, idempotencyKey: String?, fingerprint: [UInt8]) -> CreateOutcome {
        if let key = idempotencyKey, let earlier = idempotency[key] {
            return earlier.fingerprint == fingerprint ? .replayed(earlier.account) : .conflict
        }
        let n = accounts.count + 1
        let account = Account(
            id: CRMSeed.accountID(n), name: name, industry: industry, country: country, annualRevenue: 0,
            owner: CRMSeed.owners[n % CRMSeed.owners.count],
            createdAt: CRMHTTP.timestamp(epochSeconds: Int64(Date().timeIntervalSince1970)))
        accountIndex[account.id] = accounts.count
        accounts.append(account)
        if let key = idempotencyKey { idempotency[key] = (fingerprint, account) }
        return .created(account)
    }

    /// Applies a stage and/or amount change; `nil` when the opportunity does not exist.
    func updateOpportunity(_ id: String, stage: String?, amount: Money?) -> Opportunity? {
        guard let i = opportunities.firstIndex(where: { $0.id == id }) else { return nil }
        if let stage { opportunities[i].stage = stage }
        if let amount { opportunities[i].amount = amount }
        return opportunities[i]
    }

    /// Issues a new OAuth access token valid for `lifetime`.
    func issueToken(lifetime: Duration) -> String {
        let now = ContinuousClock.now
        tokens = tokens.filter { $0.value > now }
        var rng = SystemRandomNumberGenerator()
        let token = "crm_at_" + (0..<4).map { _ in String(rng.next() as UInt64, radix: 16) }.joined()
        tokens[token] = now.advanced(by: lifetime)
        tokensIssued += 1
        return token
    }

    /// Whether `token` was issued by ``issueToken(lifetime:)`` and has not expired.
    func isValidToken(_ token: String) -> Bool {
        guard let expiry = tokens[token] else { return false }
        return expiry > ContinuousClock.now
    }

    /// Counts one request to `route` (`"GET /api/v1/accounts"`).
    func count(route: String) { requestCounts[route, default: 0] += 1 }

    /// Counts a call to a flaky fault key and says whether it should still fail (the first `failures` calls do).
    func flakyShouldFail(key: String, failures: Int) -> Bool {
        let n = flakyCalls[key, default: 0] + 1
        flakyCalls[key] = n
        return n <= failures
    }

    /// Replaces the API faults.
    func setFaults(_ new: APIFaults) { faults = new }

    /// Takes one injected failure if any are pending: the status and Retry-After to answer with.
    func takeFailure() -> (status: Int, retryAfter: Int)? {
        guard faults.failNext > 0 else { return nil }
        faults.failNext -= 1
        return (faults.failStatus, faults.retryAfter)
    }

    /// Clears faults, counters and flaky keys (data and tokens stay).
    func reset() {
        faults = APIFaults()
        flakyCalls = [:]
        requestCounts = [:]
        tokensIssued = 0
    }

    /// The counters served at `GET /_control/stats`.
    var stats: JSONValue {
        [
            "requests": .object(requestCounts.mapValues { .int($0) }), "total_requests": .int(requestCounts.values.reduce(0, +)),
            "tokens_issued": .int(tokensIssued), "active_tokens": .int(tokens.count), "faults": faults.json,
        ]
    }
}
