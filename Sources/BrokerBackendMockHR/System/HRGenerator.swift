// SPDX-License-Identifier: Apache-2.0

import SimulationKit

/// Builds one tenant's workforce from the seed: an org tree, workers, balances and existing time-off requests.
///
/// Two passes: the tree first (who reports to whom, in which organization and office), then attributes. Worker
/// IDs are assigned in hire order afterwards, so 21000001 is the longest-serving employee (the CEO).
struct HRGenerator {
    let seed: UInt64
    let tenant: String
    let idBase: Int
    let employees: Int

    private struct Draft {
        var manager: Int
        var department: Int
        var team: Int
        var location: Int
        var depth: Int
    }

    /// The org tree under construction.
    private struct TreeBuilder {
        var rng: SeededGenerator
        var drafts: [Draft] = []
        /// (department, team, draft index) of each team lead.
        var teamLeads: [(department: Int, team: Int, draft: Int)] = []

        mutating func add(parent: Int, team: Int) -> Int {
            let p = drafts[parent]
            let spec = HRCatalog.departments[p.department]
            let location = rng.chance(0.7) ? p.location : rng.pick(spec.locations)
            drafts.append(Draft(manager: parent, department: p.department, team: team, location: location, depth: p.depth + 1))
            return drafts.count - 1
        }

        /// Places `count` people below `parent`: a flat team when small, otherwise 3–8 sub-managers sharing the rest.
        mutating func fill(parent: Int, count n: Int) {
            guard n > 0 else { return }
            let p = drafts[parent]
            if n <= 10 {
                for _ in 0..<n { _ = add(parent: parent, team: p.team) }
                return
            }
            let k = max(3, min(rng.int(3...8), n / 4))
            let remaining = n - k
            // Every sub-manager gets at least 3 people when possible (spans of 3-10), the rest by random weights.
            let floor = remaining >= 3 * k ? 3 : remaining / k
            let weights = (0..<k).map { _ in rng.int(2...5) }
            let sum = weights.reduce(0, +)
            var shares = weights.map { floor + (remaining - floor * k) * $0 / sum }
            var left = remaining - shares.reduce(0, +)
            var i = 0
            while left > 0 {
                shares[i % k] += 1
                left -= 1
                i += 1
            }
            for j in 0..<k {
                let isTeamLead = p.depth == 1
                let child = add(parent: parent, team: isTeamLead ? j + 1 : p.team)
                if isTeamLead { teamLeads.append((p.department, j + 1, child)) }
                fill(parent: child, count: shares[j])
            }
        }
    }

    func generate() -> HRPartition {
        var tree = TreeBuilder(rng: SeededGenerator.derive(seed: seed, "hr/\(tenant)/org"))
        tree.drafts.append(Draft(manager: -1, department: HRCatalog.executiveIndex, team: 0, location: 2, depth: 0))
        let sizes = departmentSizes(total: employees - 1)
        var heads: [Int] = []
        for d in 0..<HRCatalog.executiveIndex {
            heads.append(tree.drafts.count)
            tree.drafts.append(Draft(manager: 0, department: d, team: 0, location: HRCatalog.departments[d].locations[0], depth: 1))
            tree.fill(parent: tree.drafts.count - 1, count: sizes[d] - 1)
        }
        let drafts = tree.drafts
        var rng = SeededGenerator.derive(seed: seed, "hr/\(tenant)/people")
        let drafted = drafts.enumerated().map { i, d in attributes(i, d, drafts: drafts, rng: &rng) }

        // Worker IDs follow hire order (ties by creation order), as in a real HR system.
        let order = drafted.indices.sorted { (drafted[$0].hireDay, $0) < (drafted[$1].hireDay, $1) }
        var position = [Int](repeating: 0, count: order.count)
        for (newIndex, old) in order.enumerated() { position[old] = newIndex }
        var workers: [HRWorker] = []
        workers.reserveCapacity(order.count)
        for old in order {
            var w = drafted[old]
            if w.manager >= 0 { w.manager = position[w.manager] }
            workers.append(w)
        }
        assignEmails(&workers)

        var organizations: [HROrganization] = []
        for (d, spec) in HRCatalog.departments.enumerated() {
            let head = d == HRCatalog.executiveIndex ? 0 : position[heads[d]]
            organizations.append(HROrganization(id: "SUP-\(spec.code)", name: spec.name, department: d, team: 0, head: head))
            for lead in tree.teamLeads where lead.department == d {
                let suffix = lead.team < 10 ? "00\(lead.team)" : "0\(lead.team)"
                organizations.append(
                    HROrganization(
                        id: "SUP-\(spec.code)-\(suffix)", name: "\(spec.name) - \(spec.teams[lead.team - 1])", department: d,
                        team: lead.team, head: position[lead.draft]))
            }
        }
        var timeOffGenerator = HRTimeOffGenerator(rng: SeededGenerator.derive(seed: seed, "hr/\(tenant)/timeoff"))
        let timeOff = timeOffGenerator.generate(&workers)
        return HRPartition(
            tenant: tenant, idBase: idBase, workers: workers, organizations: organizations,
            emailDomain: Self.emailDomain(tenant), timeOff: timeOff)
    }

    /// Department sizes (head included) from the catalog weights; rounding remainders go to Engineering.
    private func departmentSizes(total: Int) -> [Int] {
        let specs = HRCatalog.departments.prefix(HRCatalog.executiveIndex)
        var sizes = specs.map { max(1, total * $0.weight / 100) }
        sizes[0] += total - sizes.reduce(0, +)
        return sizes
    }

    private func attributes(_ i: Int, _ d: Draft, drafts: [Draft], rng: inout SeededGenerator) -> HRWorker {
        let spec = HRCatalog.departments[d.department]
        let location = HRCatalog.locations[d.location]
        let hasReports = i == 0 || d.depth == 1 || drafts.indices.contains(i + 1) && drafts[i + 1].manager == i
        let managesManagers = hasReports && i + 2 < drafts.count && drafts[i + 1].manager == i && drafts[i + 2].manager == i + 1
        var level = HRManagementLevel.individualContributor
        var title: String
        var grade: String
        var basePay: Int
        if i == 0 || d.depth == 1 {
            level = .executive
            title = spec.headTitle
            grade = i == 0 ? "E2" : "E1"
        } else if hasReports {
            let teamName = d.team > 0 ? spec.teams[d.team - 1] : spec.name
            if managesManagers {
                level = .director
                title = d.depth == 2 ? "Director, \(teamName)" : "Senior \(spec.managerRole) Manager"
                grade = d.depth == 2 ? "M4" : "M3"
            } else {
                level = .manager
                title = d.depth == 2 ? "Manager, \(teamName)" : "\(spec.managerRole) Manager"
                grade = rng.chance(0.5) ? "M1" : "M2"
            }
        } else {
            var roll = rng.int(1...100)
            var pick = HRCatalog.individualGrades[0]
            for g in HRCatalog.individualGrades {
                pick = g
                roll -= g.weight
                if roll <= 0 { break }
            }
            grade = pick.grade
            title = pick.prefix + rng.pick(spec.individualRoles)
        }
        if level == .individualContributor {
            basePay = HRCatalog.individualGrades.first { $0.grade == grade }?.basePay ?? 70_000
        } else {
            basePay = HRCatalog.leadershipPay[grade] ?? 150_000
        }

        let daysAgo: Int
        if i == 0 {
            daysAgo = 5475
        } else if level != .individualContributor {
            daysAgo = rng.int(700...5400)
        } else {
            let u = rng.double(0...1)
            daysAgo = 1 + Int(5468 * (0.35 * u + 0.65 * u * u))
        }
        var status = HRWorkerStatus.active
        var partTime = false
        if level == .individualContributor {
            // Nobody leaves or goes on long leave within their first quarter.
            let r = rng.double(0...1)
            if daysAgo >= 90 { status = r < 0.035 ? .terminated : (r < 0.058 ? .leaveOfAbsence : .active) }
            partTime = rng.chance(0.07)
        }
        let hireDay = HRCalendar.referenceDay - Int32(daysAgo)
        let pay = Double(basePay) * location.payFactor * rng.double(0.9...1.1) * (partTime ? 0.6 : 1)
        let basePayCents = Int64((pay / 100).rounded()) * 10_000  // trap-ok: catalogue pay times fixed factors

        // Year-to-date balances, in half days.
        let yearStart = HRCalendar.yearStartDay
        let daysThisYear = Int(HRCalendar.referenceDay - max(hireDay, yearStart)) + 1
        let accrued = Int((Double(location.annualLeaveDays * 2) * Double(daysThisYear) / 365).rounded())  // trap-ok: days of one year
        let carry = hireDay < yearStart ? rng.int(0...10) : 0
        let taken = Int(Double(accrued + carry) * rng.double(0...0.9))  // trap-ok: below accrued + carry
        let sick = rng.chance(0.4) ? rng.int(1...6) * 2 : 0
        let unpaid = rng.chance(0.03) ? rng.int(1...5) * 2 : 0

        return HRWorker(
            firstName: rng.pick(HRNames.first), lastName: rng.pick(HRNames.last), emailLocal: "", department: d.department,
            team: d.team, manager: d.manager, level: level, title: title, grade: grade, location: d.location, hireDay: hireDay,
            status: status, partTime: partTime, basePayCents: basePayCents, annualCarryHalfDays: Int16(carry),
            annualAccruedHalfDays: Int16(accrued), annualTakenHalfDays: Int16(taken), sickTakenHalfDays: Int16(sick),
            parentalTakenHalfDays: 0, unpaidTakenHalfDays: Int16(unpaid))
    }

    /// `first.last`, with a number appended from the second holder of the same name on (in ID order).
    private func assignEmails(_ workers: inout [HRWorker]) {
        var seen: [String: Int] = [:]
        for i in workers.indices {
            let base = Self.emailPart(workers[i].firstName) + "." + Self.emailPart(workers[i].lastName)
            let n = (seen[base] ?? 0) + 1
            seen[base] = n
            workers[i].emailLocal = n == 1 ? base : base + String(n)
        }
    }

    private static func emailPart(_ s: String) -> String {
        String(String.UnicodeScalarView(s.lowercased().unicodeScalars.filter { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") }))
    }

    static func emailDomain(_ tenant: String) -> String {
        let host = String(
            String.UnicodeScalarView(tenant.lowercased().unicodeScalars.filter { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" }))
        return (host.isEmpty ? "tenant" : host) + ".example.com"
    }
}
