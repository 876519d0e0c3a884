// SPDX-License-Identifier: Apache-2.0

import Foundation
import MCPCore

extension HRSystem {
    /// `GET /workers`: filters `Search` (name), `Cost_Center`, `Location`, `Worker_Status`, `Manager_Worker_ID`,
    /// `Business_Title`; paging with `limit` (1–1000, default 100) and `offset`.
    func searchWorkers(_ p: HRPartition, _ query: [String: JSONValue]) -> HRNativeResponse {
        guard let limit = Self.integer(query["limit"], default: 100), (1...1000).contains(limit) else {
            return .validation("limit must be an integer between 1 and 1000", field: "limit")
        }
        guard let offset = Self.integer(query["offset"], default: 0), offset >= 0 else {
            return .validation("offset must be a non-negative integer", field: "offset")
        }
        let search = Self.text(query["Search"])
        let title = Self.text(query["Business_Title"])
        let costCenter = Self.text(query["Cost_Center"])
        let location = Self.text(query["Location"])
        var status: HRWorkerStatus?
        if let s = Self.text(query["Worker_Status"]) {
            guard let parsed = HRWorkerStatus(nativeName: s) else {
                return .validation("Worker_Status must be one of Active, Leave_of_Absence, Terminated", field: "Worker_Status")
            }
            status = parsed
        }
        var manager: Int?
        if let m = query["Manager_Worker_ID"]?.stringValue {
            guard let idx = p.index(ofWorkerID: m) else { return .invalidID(m, field: "Manager_Worker_ID") }
            manager = idx
        }
        var matches: [Int] = []
        for (i, w) in p.workers.enumerated() {
            if let status, w.status != status { continue }
            if let manager, w.manager != manager { continue }
            if let costCenter, HRCatalog.departments[w.department].name.lowercased() != costCenter { continue }
            if let location {
                let loc = HRCatalog.locations[w.location]
                guard loc.name.lowercased() == location || loc.id.lowercased() == location || loc.country.lowercased() == location else { continue }
            }
            if let title, !w.title.lowercased().contains(title) { continue }
            if let search, !w.fullName.lowercased().contains(search) { continue }
            matches.append(i)
        }
        let page = matches.dropFirst(offset).prefix(limit)
        return .report(
            page.map { nativeWorker(p, $0) }, total: matches.count, offset: offset,
            extra: ["As_Of_Effective_Date": .string(HRCalendar.format(HRCalendar.referenceDay))])
    }

    /// `GET /workers/{id}`: the worker with its manager reference and direct-report count.
    func worker(_ p: HRPartition, id: String) -> HRNativeResponse {
        guard let i = p.index(ofWorkerID: id) else { return .invalidID(id) }
        guard case .object(var o) = nativeWorker(p, i) else { return .invalidID(id) }
        let m = p.workers[i].manager
        o["Manager_Reference"] = m >= 0 ? reference(p, m) : .null
        o["Direct_Reports_Count"] = .int(p.reports[i].count)
        return .ok(["Worker": .object(o)])
    }

    /// `GET /workers/{id}/organizationChart?depth=1..3`: nested direct reports, the chain up to the top and the
    /// number of (non-terminated) workers in the whole subtree.
    func organizationChart(_ p: HRPartition, id: String, query: [String: JSONValue]) -> HRNativeResponse {
        guard let depth = Self.integer(query["depth"], default: 1), (1...3).contains(depth) else {
            return .validation("depth must be between 1 and 3", field: "depth")
        }
        guard let i = p.index(ofWorkerID: id) else { return .invalidID(id) }
        var chain: [JSONValue] = []
        var cursor = i
        while cursor >= 0, chain.count <= p.workers.count {
            chain.append(reference(p, cursor))
            cursor = p.workers[cursor].manager
        }
        return .ok([
            "Worker": chartNode(p, i, depth: depth), "Management_Chain": .array(chain),
            "Total_Subordinates": .int(p.subordinateCount(i)),
        ])
    }

    private func chartNode(_ p: HRPartition, _ i: Int, depth: Int) -> JSONValue {
        let w = p.workers[i]
        let reports = depth > 0 ? p.reports[i].map { chartNode(p, $0, depth: depth - 1) } : []
        return [
            "Worker_ID": .string(p.workerID(i)), "Worker_Descriptor": .string(w.fullName), "Business_Title": .string(w.title),
            "Supervisory_Organization": organizationRef(p, w), "Cost_Center": costCenter(w), "Location": locationRef(w),
            "Worker_Status": .string(w.status.nativeName), "Direct_Reports_Count": .int(p.reports[i].count),
            "Direct_Reports": .array(reports),
        ]
    }

    /// The full native worker record, compensation included (the API does not know who is asking).
    func nativeWorker(_ p: HRPartition, _ i: Int) -> JSONValue {
        let w = p.workers[i]
        let loc = HRCatalog.locations[w.location]
        return [
            "Worker_ID": .string(p.workerID(i)),
            "Worker_Descriptor": .string(w.fullName),
            "Legal_Name_Data": ["First_Name": .string(w.firstName), "Last_Name": .string(w.lastName)],
            "Email_Address": .string(w.emailLocal + "@" + p.emailDomain),
            "Supervisory_Organization": organizationRef(p, w),
            "Cost_Center": costCenter(w),
            "Manager_Worker_ID": w.manager >= 0 ? .string(p.workerID(w.manager)) : .null,
            "Business_Title": .string(w.title),
            "Job_Profile": ["Job_Family": .string(HRCatalog.departments[w.department].jobFamily), "Management_Level": .string(w.level.nativeName)],
            "Hire_Date": .string(HRCalendar.format(w.hireDay)),
            "Location": locationRef(w),
            "Worker_Status": .string(w.status.nativeName),
            "Time_Type": .string(w.partTime ? "Part_time" : "Full_time"),
            "Compensation": [
                "Base_Pay_Annual": .double(Double(w.basePayCents) / 100), "Currency_Code": .string(loc.currency),
                "Pay_Grade": .string(w.grade),
            ],
        ]
    }

    func reference(_ p: HRPartition, _ i: Int) -> JSONValue {
        let w = p.workers[i]
        return ["Worker_ID": .string(p.workerID(i)), "Worker_Descriptor": .string(w.fullName), "Business_Title": .string(w.title)]
    }

    private func organizationRef(_ p: HRPartition, _ w: HRWorker) -> JSONValue {
        guard let org = p.organization(of: w) else { return .null }
        return ["Organization_ID": .string(org.id), "Organization_Name": .string(org.name)]
    }

    private func costCenter(_ w: HRWorker) -> JSONValue {
        let d = HRCatalog.departments[w.department]
        return ["Cost_Center_ID": .string("CC-" + d.code), "Cost_Center_Name": .string(d.name)]
    }

    private func locationRef(_ w: HRWorker) -> JSONValue {
        let loc = HRCatalog.locations[w.location]
        return ["Location_ID": .string(loc.id), "Location_Name": .string(loc.name), "Country_ISO": .string(loc.country)]
    }

    /// A query integer given as a number or as decimal text, as HTTP query strings arrive.
    static func integer(_ value: JSONValue?, default def: Int) -> Int? {
        guard let value else { return def }
        if let i = value.intValue { return Int(i) }
        if let s = value.stringValue { return Int(s) }
        return nil
    }

    /// A lower-cased, trimmed query string; `nil` when absent or empty.
    static func text(_ value: JSONValue?) -> String? {
        guard let s = value?.stringValue else { return nil }
        let t = s.trimmingCharacters(in: .whitespaces).lowercased()
        return t.isEmpty ? nil : t
    }
}
