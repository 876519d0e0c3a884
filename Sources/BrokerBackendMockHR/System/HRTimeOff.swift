// SPDX-License-Identifier: Apache-2.0

import SimulationKit

/// A plan balance in half days.
struct HRBalance: Sendable {
    var plan: HRPlan
    var balanceHalfDays: Int
    var accruedHalfDays: Int
    var takenHalfDays: Int
}

extension HRWorker {
    /// Balances for every plan, year to date at the reference day.
    var balances: [HRBalance] {
        let loc = HRCatalog.locations[location]
        let annual = Int(annualCarryHalfDays) + Int(annualAccruedHalfDays) - Int(annualTakenHalfDays)
        return [
            HRBalance(plan: .annual, balanceHalfDays: annual, accruedHalfDays: Int(annualAccruedHalfDays), takenHalfDays: Int(annualTakenHalfDays)),
            HRBalance(
                plan: .sick, balanceHalfDays: loc.sickLeaveDays * 2 - Int(sickTakenHalfDays), accruedHalfDays: loc.sickLeaveDays * 2,
                takenHalfDays: Int(sickTakenHalfDays)),
            HRBalance(
                plan: .parental, balanceHalfDays: HRCatalog.parentalLeaveDays * 2 - Int(parentalTakenHalfDays), accruedHalfDays: 0,
                takenHalfDays: Int(parentalTakenHalfDays)),
            HRBalance(
                plan: .unpaid, balanceHalfDays: HRCatalog.unpaidLeaveDays * 2 - Int(unpaidTakenHalfDays),
                accruedHalfDays: HRCatalog.unpaidLeaveDays * 2, takenHalfDays: Int(unpaidTakenHalfDays)),
        ]
    }
}

extension HRTimeOffState {
    /// Requests of one worker, oldest first.
    func requests(ofWorker worker: Int) -> [HRLeaveRequest] {
        (byWorker[worker] ?? []).map { requests[$0] }
    }

    /// Annual-leave half days a worker can still request: the balance minus days already committed to submitted
    /// requests and to approved requests that have not started yet.
    func availableAnnualHalfDays(worker: Int, balance: Int) -> Int {
        var committed = 0
        for r in requests(ofWorker: worker) where r.plan == .annual {
            if r.status == .submitted || (r.status == .approved && r.start > HRCalendar.referenceDay) { committed += r.days * 2 }
        }
        return balance - committed
    }

    /// The first request of `worker` that holds part of `start...end`.
    func overlapping(worker: Int, start: Int32, end: Int32) -> HRLeaveRequest? {
        requests(ofWorker: worker).first { $0.status.holdsPeriod && $0.start <= end && start <= $0.end }
    }

    mutating func append(_ request: HRLeaveRequest) {
        byWorker[request.worker, default: []].append(requests.count)
        requests.append(request)
        nextNumber = max(nextNumber, request.number + 1)
    }
}

/// Generates the existing time-off requests of a tenant and the leave that workers on leave of absence are on.
struct HRTimeOffGenerator {
    var rng: SeededGenerator

    mutating func generate(_ workers: inout [HRWorker]) -> HRTimeOffState {
        var state = HRTimeOffState(requests: [], byWorker: [:], nextNumber: 1)
        let today = HRCalendar.referenceDay
        for i in workers.indices where workers[i].status != .terminated {
            if workers[i].status == .leaveOfAbsence {
                let roll = rng.double(0...1)
                let plan: HRPlan = roll < 0.6 ? .parental : (roll < 0.8 ? .sick : .unpaid)
                let start = HRCalendar.nextBusinessDay(onOrAfter: today - Int32(rng.int(5...60)))
                let end = today + Int32(rng.int(10...90))
                let days = HRCalendar.businessDays(from: start, to: end)
                add(&state, worker: i, plan: plan, start: start, end: end, days: days, status: .approved)
                let takenSoFar = Int16(min(HRCalendar.businessDays(from: start, to: today) * 2, 180))
                switch plan {
                case .parental: workers[i].parentalTakenHalfDays = takenSoFar
                case .sick: workers[i].sickTakenHalfDays = min(takenSoFar, 20)
                case .unpaid: workers[i].unpaidTakenHalfDays = min(takenSoFar, 40)
                case .annual: break
                }
                continue
            }
            if rng.chance(0.3) {
                let start = HRCalendar.nextBusinessDay(onOrAfter: today - Int32(rng.int(20...170)))
                let end = start + Int32(rng.int(0...9))
                let status: HRRequestStatus = rng.chance(0.9) ? .approved : (rng.chance(0.5) ? .denied : .cancelled)
                add(&state, worker: i, plan: .annual, start: start, end: end, days: HRCalendar.businessDays(from: start, to: end), status: status)
            }
            var cursor = today + Int32(rng.int(7...60))
            let balance = workers[i].balances[0].balanceHalfDays
            if rng.chance(0.15) {
                let start = HRCalendar.nextBusinessDay(onOrAfter: cursor)
                let end = start + Int32(rng.int(0...11))
                let days = HRCalendar.businessDays(from: start, to: end)
                if days * 2 <= state.availableAnnualHalfDays(worker: i, balance: balance) {
                    add(&state, worker: i, plan: .annual, start: start, end: end, days: days, status: .submitted)
                    cursor = end + 1
                }
            }
            if rng.chance(0.07) {
                let start = HRCalendar.nextBusinessDay(onOrAfter: cursor + Int32(rng.int(7...40)))
                let end = start + Int32(rng.int(0...6))
                let days = HRCalendar.businessDays(from: start, to: end)
                if days * 2 <= state.availableAnnualHalfDays(worker: i, balance: balance) {
                    add(&state, worker: i, plan: .annual, start: start, end: end, days: days, status: .approved)
                }
            }
        }
        return state
    }

    private func add(_ state: inout HRTimeOffState, worker: Int, plan: HRPlan, start: Int32, end: Int32, days: Int, status: HRRequestStatus) {
        guard days > 0 else { return }
        state.append(HRLeaveRequest(number: state.nextNumber, worker: worker, plan: plan, start: start, end: end, days: days, status: status, comment: nil))
    }
}
