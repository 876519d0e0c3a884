// SPDX-License-Identifier: Apache-2.0

import MCPCore

extension HRSystem {
    /// `GET /organizations`: every supervisory organization with its manager, headcounts and offices.
    func organizations(_ p: HRPartition) -> HRNativeResponse {
        struct Tally {
            var headcount = 0
            var active = 0
            var onLeave = 0
            var locations: [Int: Int] = [:]

            mutating func add(_ w: HRWorker) {
                headcount += 1
                if w.status == .active { active += 1 } else { onLeave += 1 }
                locations[w.location, default: 0] += 1
            }
        }
        var tallies: [Int: Tally] = [:]
        for w in p.workers where w.status != .terminated {
            tallies[w.department * 100 + w.team, default: Tally()].add(w)
            if w.team != 0 { tallies[w.department * 100, default: Tally()].add(w) }
        }
        let executive = HRCatalog.departments[HRCatalog.executiveIndex].code
        let entries: [JSONValue] = p.organizations.map { org in
            let t = tallies[org.department * 100 + org.team] ?? Tally()
            let locs = t.locations.sorted { ($0.value, -$0.key) > ($1.value, -$1.key) }.map { JSONValue.string(HRCatalog.locations[$0.key].name) }
            let superior: JSONValue
            if org.team > 0 {
                superior = .string("SUP-" + HRCatalog.departments[org.department].code)
            } else {
                superior = org.department == HRCatalog.executiveIndex ? .null : .string("SUP-" + executive)
            }
            return [
                "Organization_ID": .string(org.id), "Organization_Name": .string(org.name),
                "Organization_Type": org.team == 0 ? "Department" : "Team", "Superior_Organization_ID": superior,
                "Manager": reference(p, org.head), "Headcount": .int(t.headcount), "Active_Headcount": .int(t.active),
                "On_Leave_Headcount": .int(t.onLeave), "Location_Names": .array(locs),
            ]
        }
        return .report(entries, total: entries.count)
    }

    /// `GET /locations`: offices with their current (non-terminated) worker count.
    func locations(_ p: HRPartition) -> HRNativeResponse {
        var counts = [Int](repeating: 0, count: HRCatalog.locations.count)
        for w in p.workers where w.status != .terminated { counts[w.location] += 1 }
        let entries: [JSONValue] = HRCatalog.locations.enumerated().map { i, l in
            [
                "Location_ID": .string(l.id), "Location_Name": .string(l.name), "Country_ISO": .string(l.country),
                "Currency_Code": .string(l.currency), "Time_Zone": .string(l.timeZone), "Worker_Count": .int(counts[i]),
            ]
        }
        return .report(entries, total: entries.count)
    }

    /// `GET /timeOffPlans`: plans with accrual frequency, balance validation and entitlements per country.
    func timeOffPlans() -> HRNativeResponse {
        var countries: [(String, HRLocationSpec)] = []
        for l in HRCatalog.locations where !countries.contains(where: { $0.0 == l.country }) { countries.append((l.country, l)) }
        let entries: [JSONValue] = HRPlan.allCases.map { plan in
            let entitlements: [JSONValue] = countries.map { country, l in
                let days: Int
                switch plan {
                case .annual: days = l.annualLeaveDays
                case .sick: days = l.sickLeaveDays
                case .parental: days = HRCatalog.parentalLeaveDays
                case .unpaid: days = HRCatalog.unpaidLeaveDays
                }
                return ["Country_ISO": .string(country), "Days": .int(days)]
            }
            return [
                "Plan": .string(plan.nativeName), "Plan_Name": .string(plan.displayName), "Unit": "Days",
                "Accrual_Frequency": .string(plan.accrualFrequency), "Entitlement_Basis": plan == .parental ? "Per_Event" : "Per_Year",
                "Balance_Validation": .bool(plan == .annual), "Entitlements": .array(entitlements),
            ]
        }
        return .report(entries, total: entries.count)
    }
}
