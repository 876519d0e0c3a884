// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// Employment status, as the HR system stores it.
enum HRWorkerStatus: UInt8, Sendable {
    case active, leaveOfAbsence, terminated

    /// Native value.
    var nativeName: String {
        switch self {
        case .active: return "Active"
        case .leaveOfAbsence: return "Leave_of_Absence"
        case .terminated: return "Terminated"
        }
    }

    init?(nativeName: String) {
        switch nativeName.lowercased() {
        case "active": self = .active
        case "leave_of_absence": self = .leaveOfAbsence
        case "terminated": self = .terminated
        default: return nil
        }
    }
}

/// Position in the management hierarchy.
enum HRManagementLevel: UInt8, Sendable {
    case executive, director, manager, individualContributor

    /// Native value.
    var nativeName: String {
        switch self {
        case .executive: return "Executive"
        case .director: return "Director"
        case .manager: return "Manager"
        case .individualContributor: return "Individual_Contributor"
        }
    }
}

/// One worker, stored compactly; native JSON is built only for returned rows.
struct HRWorker: Sendable {
    var firstName: String
    var lastName: String
    /// Local part of the e-mail address.
    var emailLocal: String
    var department: Int
    /// 0 for the department's own organization, else 1-based index into the department's teams.
    var team: Int
    /// Index of the manager in the partition's worker array; -1 for the CEO.
    var manager: Int
    var level: HRManagementLevel
    var title: String
    var grade: String
    var location: Int
    var hireDay: Int32
    var status: HRWorkerStatus
    var partTime: Bool
    var basePayCents: Int64
    // Balances in half days, year to date at the reference day.
    var annualCarryHalfDays: Int16
    var annualAccruedHalfDays: Int16
    var annualTakenHalfDays: Int16
    var sickTakenHalfDays: Int16
    var parentalTakenHalfDays: Int16
    var unpaidTakenHalfDays: Int16

    var fullName: String { firstName + " " + lastName }
}

/// Status of a time-off request.
enum HRRequestStatus: UInt8, Sendable {
    case submitted, approved, denied, cancelled

    /// Native value.
    var nativeName: String {
        switch self {
        case .submitted: return "Submitted"
        case .approved: return "Approved"
        case .denied: return "Denied"
        case .cancelled: return "Cancelled"
        }
    }

    init?(nativeName: String) {
        switch nativeName.lowercased() {
        case "submitted": self = .submitted
        case "approved": self = .approved
        case "denied": self = .denied
        case "cancelled": self = .cancelled
        default: return nil
        }
    }

    /// Whether the request blocks the period for another request.
    var holdsPeriod: Bool { self == .submitted || self == .approved }
}

/// One time-off request.
struct HRLeaveRequest: Sendable {
    var number: Int
    var worker: Int
    var plan: HRPlan
    var start: Int32
    var end: Int32
    var days: Int
    var status: HRRequestStatus
    var comment: String?

    var requestID: String {
        let s = String(number)
        return "TOR-" + String(repeating: "0", count: max(0, 7 - s.count)) + s
    }
}

/// A supervisory organization: a department (team 0) or one of its teams.
struct HROrganization: Sendable {
    var id: String
    var name: String
    var department: Int
    var team: Int
    /// Worker index of the organization's manager.
    var head: Int
}

/// The mutable part of a tenant: time-off requests.
struct HRTimeOffState: Sendable {
    var requests: [HRLeaveRequest]
    /// Request indices per worker index.
    var byWorker: [Int: [Int]]
    var nextNumber: Int
}

/// All data of one tenant. Workers and organizations are fixed once generated; requests change behind a lock.
final class HRPartition: Sendable {
    let tenant: String
    /// Worker IDs are `idBase + index + 1`, so a lookup is arithmetic.
    let idBase: Int
    let workers: [HRWorker]
    /// Non-terminated direct reports per worker index, in ID order.
    let reports: [[Int]]
    let organizations: [HROrganization]
    /// Organization index by `department * 100 + team`.
    private let organizationIndex: [Int: Int]
    let emailDomain: String
    let timeOff: Mutex<HRTimeOffState>

    init(tenant: String, idBase: Int, workers: [HRWorker], organizations: [HROrganization], emailDomain: String, timeOff: HRTimeOffState) {
        self.tenant = tenant
        self.idBase = idBase
        self.workers = workers
        self.organizations = organizations
        var orgIndex: [Int: Int] = [:]
        for (i, o) in organizations.enumerated() { orgIndex[o.department * 100 + o.team] = i }
        self.organizationIndex = orgIndex
        self.emailDomain = emailDomain
        var reports = [[Int]](repeating: [], count: workers.count)
        for (i, w) in workers.enumerated() where w.manager >= 0 && w.status != .terminated {
            reports[w.manager].append(i)
        }
        self.reports = reports
        self.timeOff = Mutex(timeOff)
    }

    /// The native ID of a worker index.
    func workerID(_ index: Int) -> String { String(idBase + index + 1) }

    /// The worker index for a native ID, or `nil` when no such worker exists in this tenant.
    func index(ofWorkerID id: String) -> Int? {
        guard id.count == 8, let n = Int(id) else { return nil }
        let i = n - idBase - 1
        return workers.indices.contains(i) ? i : nil
    }

    /// The supervisory organization a worker belongs to.
    func organization(of worker: HRWorker) -> HROrganization? {
        organizationIndex[worker.department * 100 + worker.team].map { organizations[$0] }
    }

    /// Number of non-terminated workers below `index`, at any depth.
    func subordinateCount(_ index: Int) -> Int {
        var count = 0
        var stack = reports[index]
        while let next = stack.popLast() {
            count += 1
            stack.append(contentsOf: reports[next])
        }
        return count
    }
}
