// SPDX-License-Identifier: Apache-2.0

import MCPCore
import SimulationKit
import Synchronization

extension HRSystem {
    /// `GET /workers/{id}/timeOffBalances`: one entry per plan, as of the system's reference day.
    func timeOffBalances(_ p: HRPartition, id: String) -> HRNativeResponse {
        guard let i = p.index(ofWorkerID: id) else { return .invalidID(id) }
        let w = p.workers[i]
        let entries: [JSONValue] = w.balances.map { b in
            [
                "Plan": .string(b.plan.nativeName), "Balance_Days": .double(Double(b.balanceHalfDays) / 2),
                "Accrued_YTD": .double(Double(b.accruedHalfDays) / 2), "Taken_YTD": .double(Double(b.takenHalfDays) / 2), "Unit": "Days",
            ]
        }
        return .report(
            entries, total: entries.count,
            extra: [
                "Worker_ID": .string(id), "Worker_Descriptor": .string(w.fullName),
                "As_Of_Date": .string(HRCalendar.format(HRCalendar.referenceDay)),
            ])
    }

    /// `GET /workers/{id}/timeOffRequests?Status=...`: the worker's requests, by start date.
    func timeOffRequests(_ p: HRPartition, id: String, query: [String: JSONValue]) -> HRNativeResponse {
        guard let i = p.index(ofWorkerID: id) else { return .invalidID(id) }
        var status: HRRequestStatus?
        if let s = query["Status"]?.stringValue {
            guard let parsed = HRRequestStatus(nativeName: s) else {
                return .validation("Status must be one of Submitted, Approved, Denied, Cancelled", field: "Status")
            }
            status = parsed
        }
        let requests = p.timeOff.withLock { $0.requests(ofWorker: i) }
            .filter { status == nil || $0.status == status }
            .sorted { ($0.start, $0.number) < ($1.start, $1.number) }
        return .report(requests.map { nativeRequest(p, $0) }, total: requests.count)
    }

    /// `POST /workers/{id}/timeOffRequests` with `Idempotency-Key`; body `Plan`, `Start_Date`, `End_Date`, `Comment`.
    func createTimeOffRequest(_ p: HRPartition, id: String, request: HRNativeRequest) -> HRNativeResponse {
        guard let key = request.header("Idempotency-Key"), !key.isEmpty, key.count <= 64 else {
            return .validation("The Idempotency-Key header is required", field: "Idempotency-Key")
        }
        guard let i = p.index(ofWorkerID: id) else { return .invalidID(id) }
        let body = request.body ?? .null
        guard let planName = body["Plan"]?.stringValue, let plan = HRPlan(nativeName: planName) else {
            return .validation("Plan must be one of Annual_Leave, Sick_Leave, Parental_Leave, Unpaid_Leave", field: "Plan")
        }
        guard let startText = body["Start_Date"]?.stringValue, let start = HRCalendar.parse(startText) else {
            return .validation("Start_Date must be a date in the format yyyy-MM-dd", field: "Start_Date")
        }
        guard let endText = body["End_Date"]?.stringValue, let end = HRCalendar.parse(endText) else {
            return .validation("End_Date must be a date in the format yyyy-MM-dd", field: "End_Date")
        }
        guard end >= start else { return .validation("End_Date must be on or after Start_Date", field: "End_Date") }
        guard end - start <= 365 else { return .validation("A time off request may span at most 366 days", field: "End_Date") }
        let days = HRCalendar.businessDays(from: start, to: end)
        guard days > 0 else { return .validation("The requested period contains no working days", field: "Days") }
        let comment = body["Comment"]?.stringValue
        if let comment, comment.count > 500 { return .validation("Comment must be at most 500 characters", field: "Comment") }

        let fingerprint = ["Worker_ID": .string(id), "Plan": .string(plan.nativeName), "Start_Date": .string(startText),
            "End_Date": .string(endText), "Comment": .string(comment)] as JSONValue
        switch idempotency.begin(tenant: p.tenant, key: key, fingerprint: fingerprint.jsonText) {
        case .replay(let stored):
            return .ok(stored, status: 201)
        case .conflict:
            return .error(
                409, "IDEMPOTENCY_CONFLICT", "Idempotency key '\(key)' was already used with a different request", field: "Idempotency-Key")
        case .inProgress:
            return .error(409, "REQUEST_IN_PROGRESS", "A request with idempotency key '\(key)' is still being processed", field: "Idempotency-Key")
        case .new:
            break
        }
        let w = p.workers[i]
        let outcome: HRWriteOutcome = p.timeOff.withLock { state in
            guard w.status != .terminated else {
                return .refused(.error(409, "INACTIVE_WORKER", "Worker \(id) has status \(w.status.nativeName)", field: "Worker_ID"))
            }
            if let clash = state.overlapping(worker: i, start: start, end: end) {
                return .refused(
                    .error(
                        409, "OVERLAPPING_REQUEST", "The request overlaps time off request \(clash.requestID)", field: "Start_Date",
                        extra: [
                            "Conflicting_Request_ID": .string(clash.requestID), "Conflicting_Start_Date": .string(HRCalendar.format(clash.start)),
                            "Conflicting_End_Date": .string(HRCalendar.format(clash.end)), "Conflicting_Status": .string(clash.status.nativeName),
                        ]))
            }
            if plan == .annual {
                let available = state.availableAnnualHalfDays(worker: i, balance: w.balances[0].balanceHalfDays)
                if days * 2 > available {
                    return .refused(
                        .error(
                            409, "INSUFFICIENT_BALANCE", "Insufficient balance for plan Annual_Leave", field: "Days",
                            extra: ["Available_Days": .double(Double(available) / 2), "Requested_Days": .double(Double(days))]))
                }
            }
            let created = HRLeaveRequest(
                number: state.nextNumber, worker: i, plan: plan, start: start, end: end, days: days, status: .submitted, comment: comment)
            state.append(created)
            return .created(created)
        }
        switch outcome {
        case .created(let created):
            let result: JSONValue = ["Time_Off_Request": nativeRequest(p, created)]
            idempotency.record(tenant: p.tenant, key: key, fingerprint: fingerprint.jsonText, result: result)
            return .ok(result, status: 201)
        case .refused(let response):
            idempotency.abandon(tenant: p.tenant, key: key)
            return response
        }
    }

    func nativeRequest(_ p: HRPartition, _ r: HRLeaveRequest) -> JSONValue {
        [
            "Request_ID": .string(r.requestID), "Worker_ID": .string(p.workerID(r.worker)), "Plan": .string(r.plan.nativeName),
            "Start_Date": .string(HRCalendar.format(r.start)), "End_Date": .string(HRCalendar.format(r.end)), "Days": .double(Double(r.days)),
            "Status": .string(r.status.nativeName), "Comment": .string(r.comment),
        ]
    }
}

/// The outcome of a write attempted under the partition lock.
private enum HRWriteOutcome {
    case created(HRLeaveRequest)
    case refused(HRNativeResponse)
}
