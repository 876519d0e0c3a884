// SPDX-License-Identifier: Apache-2.0

import Foundation
import MCPCore

/// A CRM account (a customer company).
struct Account: Sendable, Equatable {
    /// `acc-0001` style identifier.
    let id: String
    /// The company's name.
    let name: String
    /// One of ``CRMSeed/industries``.
    let industry: String
    /// ISO 3166-1 alpha-2 country code.
    let country: String
    /// Yearly revenue in EUR.
    let annualRevenue: Int64
    /// The sales rep who owns the account.
    let owner: Owner
    /// RFC 3339 creation time.
    let createdAt: String

    /// The account's wire form.
    var json: JSONValue {
        [
            "id": .string(id), "name": .string(name), "industry": .string(industry), "country": .string(country),
            "annual_revenue": .int(annualRevenue), "owner": owner.json, "created_at": .string(createdAt),
        ]
    }
}

/// A sales rep owning accounts.
struct Owner: Sendable, Equatable {
    /// `usr-01` style identifier.
    let id: String
    /// Display name.
    let name: String

    /// The owner's wire form.
    var json: JSONValue { ["id": .string(id), "name": .string(name)] }
}

/// A person at an account.
struct Contact: Sendable, Equatable {
    /// `con-00001` style identifier.
    let id: String
    /// The account the contact works for.
    let accountID: String
    /// Given name.
    let firstName: String
    /// Family name.
    let lastName: String
    /// Work e-mail address.
    let email: String
    /// Job title.
    let title: String
    /// Work phone number.
    let phone: String

    /// The contact's wire form.
    var json: JSONValue {
        [
            "id": .string(id), "account_id": .string(accountID), "first_name": .string(firstName), "last_name": .string(lastName),
            "email": .string(email), "title": .string(title), "phone": .string(phone),
        ]
    }
}

/// A sales opportunity on an account.
struct Opportunity: Sendable, Equatable {
    /// The pipeline stages, in order.
    static let stages = ["prospecting", "qualification", "proposal", "negotiation", "closed_won", "closed_lost"]

    /// `opp-0001` style identifier.
    let id: String
    /// The account the deal is with.
    let accountID: String
    /// The deal's name.
    let name: String
    /// One of ``stages``.
    var stage: String
    /// The deal's value.
    var amount: Money
    /// Expected close date (`YYYY-MM-DD`).
    let closeDate: String

    /// The opportunity's wire form.
    var json: JSONValue {
        [
            "id": .string(id), "account_id": .string(accountID), "name": .string(name), "stage": .string(stage),
            "amount": amount.json, "close_date": .string(closeDate),
        ]
    }
}

/// An amount of money in a currency.
struct Money: Sendable, Equatable {
    /// The amount (two decimals).
    let value: Double
    /// ISO 4217 currency code.
    let currency: String

    /// The amount's wire form.
    var json: JSONValue { ["value": .double(value), "currency": .string(currency)] }
}

/// The deterministic seed data: 200 accounts, their contacts, 300 opportunities.
///
/// Everything derives from the record's index, so every run (and every test) sees the same CRM.
enum CRMSeed {
    /// The industries an account may have.
    static let industries = ["software", "manufacturing", "retail", "healthcare", "finance", "energy", "logistics", "media"]
    /// The countries seed accounts are in.
    static let countries = ["DE", "FR", "US", "GB", "NL", "ES", "IT", "SE", "CH", "JP"]
    /// The sales reps.
    static let owners = [
        Owner(id: "usr-01", name: "Anna Keller"), Owner(id: "usr-02", name: "Ben Ortiz"), Owner(id: "usr-03", name: "Chloé Martin"),
        Owner(id: "usr-04", name: "David Chen"), Owner(id: "usr-05", name: "Eva Lindqvist"), Owner(id: "usr-06", name: "Farid Haddad"),
    ]
    private static let namePrefixes = [
        "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Cyberdyne",
        "Tyrell", "Wonka", "Nakatomi", "Oscorp", "Aperture", "Gringotts", "Monarch", "Pied Piper", "Dunder", "Massive",
    ]
    private static let nameSuffixes = ["Analytics", "Systems", "Logistics", "Foods", "Energy", "Media", "Health", "Capital", "Robotics", "Labs"]
    private static let legalForms = ["GmbH", "SA", "Inc.", "Ltd", "B.V.", "S.L.", "S.p.A.", "AB", "AG", "K.K."]
    private static let firstNames = ["Alice", "Bruno", "Carla", "Dmitri", "Elif", "Felix", "Greta", "Hiro", "Ines", "Jonas", "Kira", "Luca"]
    private static let lastNames = ["Schmidt", "Dubois", "Smith", "Jones", "de Vries", "García", "Rossi", "Berg", "Müller", "Tanaka", "Novak"]
    private static let titles = ["CTO", "Head of Procurement", "IT Manager", "CFO", "Operations Lead", "VP Sales", "Data Engineer"]

    /// The number of seed accounts.
    static let accountCount = 200
    /// The number of seed opportunities.
    static let opportunityCount = 300

    /// `acc-0001` … `acc-9999`.
    static func accountID(_ n: Int) -> String { "acc-" + zeroPad(n, 4) }

    /// The seed accounts, `acc-0001` first.
    static func accounts() -> [Account] {
        (1...accountCount).map { n in
            let country = countries[(n * 7) % countries.count]
            let name = "\(namePrefixes[(n - 1) % namePrefixes.count]) \(nameSuffixes[((n - 1) / namePrefixes.count) % nameSuffixes.count])"
            return Account(
                id: accountID(n), name: "\(name) \(legalForms[countries.firstIndex(of: country) ?? 0])",
                industry: industries[(n * 3) % industries.count], country: country,
                annualRevenue: Int64(250_000 + (n * 104_729) % 49_750_000), owner: owners[n % owners.count],
                // 2020-01-06 + 5 days per account, 09:00 UTC plus a few minutes.
                createdAt: CRMHTTP.timestamp(epochSeconds: Int64(18_267 + n * 5) * 86_400 + 32_400 + Int64(n % 60) * 60))
        }
    }

    /// How many contacts seed account number `n` has (3 … 24).
    static func contactCount(forAccount n: Int) -> Int { 3 + (n * 13) % 22 }

    /// The contacts of seed account number `n`.
    static func contacts(forAccount n: Int) -> [Contact] {
        (1...contactCount(forAccount: n)).map { k in
            let first = firstNames[(n + k) % firstNames.count]
            let last = lastNames[(n * 5 + k) % lastNames.count]
            let local = "\(first).\(last)".folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
                .lowercased().replacingOccurrences(of: " ", with: "")
            return Contact(
                id: "con-" + zeroPad(n, 4) + "-" + zeroPad(k, 2), accountID: accountID(n), firstName: first, lastName: last,
                email: "\(local)@\(accountID(n)).example.com", title: titles[(n + k * 3) % titles.count],
                phone: "+1-555-" + zeroPad((n * 97 + k * 31) % 10_000, 4))
        }
    }

    /// The seed opportunities, `opp-0001` first; opportunity `i` belongs to account `(i - 1) % 200 + 1`.
    static func opportunities() -> [Opportunity] {
        (1...opportunityCount).map { i in
            let account = (i - 1) % accountCount + 1
            let currency = ["EUR", "USD", "GBP"][i % 3]
            return Opportunity(
                id: "opp-" + zeroPad(i, 4), accountID: accountID(account),
                name: ["Platform renewal", "Expansion", "Pilot", "Support upgrade", "New region rollout"][i % 5] + " \(2025 + i % 3)",
                stage: Opportunity.stages[(i * 5) % Opportunity.stages.count],
                amount: Money(value: Double(500_000 + (i * 7_919_123) % 25_000_000) / 100, currency: currency),
                // 2026-01-01 + up to one year.
                closeDate: CRMHTTP.date(daysSinceEpoch: Int64(20_454 + (i * 37) % 365)))
        }
    }

    /// Left-pads `n` with zeros to `width` digits.
    static func zeroPad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
