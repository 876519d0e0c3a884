// SPDX-License-Identifier: Apache-2.0

import Foundation
import Hummingbird
import MCPCore

/// The `/api/v1` handlers: accounts, their contacts, opportunities.
struct CRMAPI: Sendable {
    /// The CRM's state.
    let store: CRMStore

    /// Adds the routes to an (already authenticated) group.
    func register(on group: RouterGroup<BasicRequestContext>) {
        group.get("accounts") { request, _ in await listAccounts(request) }
        group.post("accounts") { request, _ in try await createAccount(request) }
        group.get("accounts/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard let account = await store.account(id) else { return accountNotFound(id) }
            return CRMHTTP.json(.ok, account.json)
        }
        group.get("accounts/:id/contacts") { request, context in await listContacts(request, accountID: context.parameters.get("id") ?? "") }
        group.get("opportunities") { request, _ in await listOpportunities(request) }
        group.patch("opportunities/:id") { request, context in try await updateOpportunity(request, id: context.parameters.get("id") ?? "") }
    }

    private func accountNotFound(_ id: String) -> Response {
        CRMHTTP.error(.notFound, code: "ACCOUNT_NOT_FOUND", message: "No account with id \(id)")
    }

    /// Cursor pagination: `limit` (1…100, default 25) and an opaque `cursor`; answers `{"data","next_cursor"}`.
    private func page(_ request: Request, kind: String, items: [JSONValue]) -> Response {
        var limit = 25
        switch CRMHTTP.intQuery(request, "limit", range: 1...100) {
        case .failure(let error): return validationFailed([error])
        case .success(let value): limit = value ?? limit
        }
        var offset = 0
        if let cursor = CRMHTTP.stringQuery(request, "cursor") {
            guard let decoded = CRMHTTP.offset(fromCursor: cursor, kind: kind) else {
                return CRMHTTP.error(.badRequest, code: "INVALID_CURSOR", message: "The cursor is malformed or expired.")
            }
            offset = decoded
        }
        let end = min(items.count, offset + limit)
        let slice = offset < end ? Array(items[offset..<end]) : []
        let next: JSONValue = end < items.count ? .string(CRMHTTP.cursor(kind: kind, offset: end)) : .null
        return CRMHTTP.json(.ok, ["data": .array(slice), "next_cursor": next])
    }

    private func listAccounts(_ request: Request) async -> Response {
        let industry = CRMHTTP.stringQuery(request, "industry")?.lowercased()
        let country = CRMHTTP.stringQuery(request, "country")?.uppercased()
        let matching = await store.accounts.filter { account in
            (industry == nil || account.industry == industry) && (country == nil || account.country == country)
        }
        return page(request, kind: "acc", items: matching.map(\.json))
    }

    private func listOpportunities(_ request: Request) async -> Response {
        let stage = CRMHTTP.stringQuery(request, "stage")
        if let stage, !Opportunity.stages.contains(stage) {
            return validationFailed([.init(field: "stage", message: "must be one of \(Opportunity.stages.joined(separator: ", "))")])
        }
        let accountID = CRMHTTP.stringQuery(request, "account_id")
        let matching = await store.opportunities.filter { opp in
            (stage == nil || opp.stage == stage) && (accountID == nil || opp.accountID == accountID)
        }
        return page(request, kind: "opp", items: matching.map(\.json))
    }

    /// Page-number pagination with an RFC 8288 `Link` header (`first`, `prev`, `next`, `last`) and `X-Total-Count`.
    private func listContacts(_ request: Request, accountID: String) async -> Response {
        guard let contacts = await store.contacts(ofAccount: accountID) else { return accountNotFound(accountID) }
        var perPage = 10, page = 1
        var errors: [CRMHTTP.FieldError] = []
        switch CRMHTTP.intQuery(request, "per_page", range: 1...100) {
        case .failure(let error): errors.append(error)
        case .success(let value): perPage = value ?? perPage
        }
        switch CRMHTTP.intQuery(request, "page", range: 1...100_000) {
        case .failure(let error): errors.append(error)
        case .success(let value): page = value ?? page
        }
        if !errors.isEmpty { return validationFailed(errors) }
        let lastPage = max(1, (contacts.count + perPage - 1) / perPage)
        let start = min(contacts.count, (page - 1) * perPage)
        let items = contacts[start..<min(contacts.count, start + perPage)].map(\.json)
        // Absolute links from the Host the client used; credentials (api_key) are never copied into them.
        let base = request.head.authority.map { "http://\($0)" } ?? ""
        func link(_ p: Int, _ rel: String) -> String { "<\(base)/api/v1/accounts/\(accountID)/contacts?page=\(p)&per_page=\(perPage)>; rel=\"\(rel)\"" }
        var links = [link(1, "first")]
        if page > 1 { links.append(link(min(page - 1, lastPage), "prev")) }
        if page < lastPage { links.append(link(page + 1, "next")) }
        links.append(link(lastPage, "last"))
        return CRMHTTP.json(.ok, .array(items), headers: CRMHTTP.headers(["Link": links.joined(separator: ", "), "X-Total-Count": String(contacts.count)]))
    }

    private func validationFailed(_ fields: [CRMHTTP.FieldError]) -> Response {
        CRMHTTP.error(.unprocessableContent, code: "VALIDATION_FAILED", message: "The request has invalid fields.", fields: fields)
    }

    /// The body as a JSON object, `nil` when it is not one.
    private func parseObject(_ request: Request) async throws -> [String: JSONValue]? {
        (try? JSONParser.parse(try await CRMHTTP.body(request)))?.objectValue
    }

    private var invalidJSON: Response {
        CRMHTTP.error(.badRequest, code: "INVALID_JSON", message: "The request body must be a JSON object.")
    }

    private func createAccount(_ request: Request) async throws -> Response {
        guard let object = try await parseObject(request) else { return invalidJSON }
        var errors: [CRMHTTP.FieldError] = []
        let name = object["name"]?.stringValue?.trimmingCharacters(in: .whitespaces) ?? ""
        if name.isEmpty || name.count > 200 { errors.append(.init(field: "name", message: "is required (1 to 200 characters)")) }
        let industry = object["industry"]?.stringValue ?? ""
        if !CRMSeed.industries.contains(industry) {
            errors.append(.init(field: "industry", message: "must be one of \(CRMSeed.industries.joined(separator: ", "))"))
        }
        let country = object["country"]?.stringValue ?? ""
        if country.count != 2 || !country.allSatisfy({ $0.isASCII && $0.isUppercase }) {
            errors.append(.init(field: "country", message: "must be an ISO 3166-1 alpha-2 code such as DE"))
        }
        for key in object.keys where !["name", "industry", "country"].contains(key) {
            errors.append(.init(field: key, message: "is not a known field"))
        }
        if !errors.isEmpty { return validationFailed(errors) }
        let key = CRMHTTP.header(request, "idempotency-key")
        switch await store.createAccount(
            name: name, industry: industry, country: country, idempotencyKey: key, fingerprint: JSONWriter.encode(.object(object)))
        {
        case .created(let account):
            return CRMHTTP.json(.created, account.json, headers: [.location: "/api/v1/accounts/\(account.id)"])
        case .replayed(let account):
            return CRMHTTP.json(.ok, account.json, headers: CRMHTTP.headers(["Location": "/api/v1/accounts/\(account.id)", "Idempotent-Replayed": "true"]))
        case .conflict:
            return CRMHTTP.error(
                .conflict, code: "IDEMPOTENCY_CONFLICT", message: "The Idempotency-Key was already used with a different request body.")
        }
    }

    private func updateOpportunity(_ request: Request, id: String) async throws -> Response {
        guard let object = try await parseObject(request) else { return invalidJSON }
        var errors: [CRMHTTP.FieldError] = []
        let stage = object["stage"]?.stringValue
        if object["stage"] != nil, stage.map(Opportunity.stages.contains) != true {
            errors.append(.init(field: "stage", message: "must be one of \(Opportunity.stages.joined(separator: ", "))"))
        }
        var amount: Money?
        if let raw = object["amount"] {
            if let value = raw["value"]?.doubleValue, value >= 0, let currency = raw["currency"]?.stringValue,
                currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isUppercase })
            {
                amount = Money(value: value, currency: currency)
            } else {
                errors.append(.init(field: "amount", message: "must be {\"value\": number >= 0, \"currency\": ISO 4217 code}"))
            }
        }
        for key in object.keys where key != "stage" && key != "amount" { errors.append(.init(field: key, message: "is not a known field")) }
        if object.isEmpty { errors.append(.init(field: "stage", message: "stage or amount is required")) }
        if !errors.isEmpty { return validationFailed(errors) }
        guard let updated = await store.updateOpportunity(id, stage: stage, amount: amount) else {
            return CRMHTTP.error(.notFound, code: "OPPORTUNITY_NOT_FOUND", message: "No opportunity with id \(id)")
        }
        return CRMHTTP.json(.ok, updated.json)
    }
}
