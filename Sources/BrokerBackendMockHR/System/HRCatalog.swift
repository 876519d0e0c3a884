// SPDX-License-Identifier: Apache-2.0

/// One department of the simulated company: its supervisory organization, roles, teams and offices.
struct HRDepartmentSpec: Sendable {
    /// Three-letter code used in organization and cost-center IDs (`SUP-ENG`, `CC-ENG`).
    let code: String
    let name: String
    /// Share of the workforce, in percent.
    let weight: Int
    let jobFamily: String
    let headTitle: String
    /// Prefix of first-line manager titles ("Engineering" → "Engineering Manager").
    let managerRole: String
    let individualRoles: [String]
    /// Names of the sub-organizations led by the department head's direct reports.
    let teams: [String]
    /// Indices into ``HRCatalog/locations``.
    let locations: [Int]
}

/// An office.
struct HRLocationSpec: Sendable {
    let id: String
    let name: String
    let country: String
    let currency: String
    let timeZone: String
    /// Local-currency salary for one US dollar of the grade's base pay (exchange rate and cost of labour).
    let payFactor: Double
    let annualLeaveDays: Int
    let sickLeaveDays: Int
}

/// A time-off plan.
enum HRPlan: UInt8, Sendable, CaseIterable {
    case annual, sick, parental, unpaid

    /// Native plan name.
    var nativeName: String {
        switch self {
        case .annual: return "Annual_Leave"
        case .sick: return "Sick_Leave"
        case .parental: return "Parental_Leave"
        case .unpaid: return "Unpaid_Leave"
        }
    }

    /// Display name.
    var displayName: String {
        switch self {
        case .annual: return "Annual Leave"
        case .sick: return "Sick Leave"
        case .parental: return "Parental Leave"
        case .unpaid: return "Unpaid Leave"
        }
    }

    /// Native accrual frequency.
    var accrualFrequency: String {
        switch self {
        case .annual: return "Monthly"
        case .sick: return "Annual_Grant"
        case .parental: return "Per_Event"
        case .unpaid: return "Annual_Grant"
        }
    }

    init?(nativeName: String) {
        guard let p = HRPlan.allCases.first(where: { $0.nativeName == nativeName }) else { return nil }
        self = p
    }
}

/// Fixed reference data of the simulated company.
enum HRCatalog {
    /// Parental leave granted per event, in days, everywhere.
    static let parentalLeaveDays = 90
    /// Unpaid leave allowed per year, in days.
    static let unpaidLeaveDays = 20

    static let locations: [HRLocationSpec] = [
        HRLocationSpec(id: "LOC-LON", name: "London", country: "GB", currency: "GBP", timeZone: "Europe/London", payFactor: 0.74, annualLeaveDays: 25, sickLeaveDays: 10),
        HRLocationSpec(id: "LOC-BER", name: "Berlin", country: "DE", currency: "EUR", timeZone: "Europe/Berlin", payFactor: 0.78, annualLeaveDays: 30, sickLeaveDays: 30),
        HRLocationSpec(id: "LOC-NYC", name: "New York", country: "US", currency: "USD", timeZone: "America/New_York", payFactor: 1.15, annualLeaveDays: 20, sickLeaveDays: 10),
        HRLocationSpec(id: "LOC-AUS", name: "Austin", country: "US", currency: "USD", timeZone: "America/Chicago", payFactor: 1.0, annualLeaveDays: 20, sickLeaveDays: 10),
        HRLocationSpec(id: "LOC-SIN", name: "Singapore", country: "SG", currency: "SGD", timeZone: "Asia/Singapore", payFactor: 1.2, annualLeaveDays: 18, sickLeaveDays: 14),
        HRLocationSpec(id: "LOC-BLR", name: "Bangalore", country: "IN", currency: "INR", timeZone: "Asia/Kolkata", payFactor: 32.0, annualLeaveDays: 21, sickLeaveDays: 12),
        HRLocationSpec(id: "LOC-DUB", name: "Dublin", country: "IE", currency: "EUR", timeZone: "Europe/Dublin", payFactor: 0.82, annualLeaveDays: 23, sickLeaveDays: 10),
        HRLocationSpec(id: "LOC-TOR", name: "Toronto", country: "CA", currency: "CAD", timeZone: "America/Toronto", payFactor: 1.25, annualLeaveDays: 20, sickLeaveDays: 10),
    ]

    /// Index of the executive office in ``departments``.
    static let executiveIndex = 12

    static let departments: [HRDepartmentSpec] = [
        HRDepartmentSpec(
            code: "ENG", name: "Engineering", weight: 25, jobFamily: "Software Development", headTitle: "VP Engineering",
            managerRole: "Engineering",
            individualRoles: ["Software Engineer", "Site Reliability Engineer", "QA Engineer", "Data Engineer", "Security Engineer"],
            teams: ["Platform", "Infrastructure", "Mobile", "Web", "Data", "Security", "Developer Experience", "Payments"],
            locations: [0, 1, 3, 5, 7]),
        HRDepartmentSpec(
            code: "SAL", name: "Sales", weight: 15, jobFamily: "Sales", headTitle: "Chief Revenue Officer", managerRole: "Sales",
            individualRoles: ["Account Executive", "Sales Development Representative", "Solutions Consultant", "Account Manager"],
            teams: ["EMEA Enterprise", "North America Enterprise", "APAC", "Mid-Market", "SMB", "Channel Partners", "Sales Engineering", "Renewals"],
            locations: [2, 0, 4, 6, 3]),
        HRDepartmentSpec(
            code: "FIN", name: "Finance", weight: 6, jobFamily: "Finance and Accounting", headTitle: "Chief Financial Officer",
            managerRole: "Finance", individualRoles: ["Financial Analyst", "Accountant", "Payroll Specialist", "Treasury Analyst"],
            teams: ["Accounting", "FP&A", "Treasury", "Tax", "Payroll", "Revenue Accounting", "Internal Audit", "Billing"],
            locations: [2, 0, 6]),
        HRDepartmentSpec(
            code: "HRS", name: "HR", weight: 4, jobFamily: "Human Resources", headTitle: "Chief People Officer", managerRole: "HR",
            individualRoles: ["HR Business Partner", "Recruiter", "HR Generalist", "People Operations Specialist"],
            teams: ["Talent Acquisition", "People Partners", "Total Rewards", "Learning", "People Operations", "HR Systems", "Employee Relations", "Inclusion"],
            locations: [2, 0, 5]),
        HRDepartmentSpec(
            code: "MKT", name: "Marketing", weight: 7, jobFamily: "Marketing", headTitle: "Chief Marketing Officer", managerRole: "Marketing",
            individualRoles: ["Marketing Specialist", "Content Strategist", "Product Marketer", "Growth Marketer", "Designer"],
            teams: ["Brand", "Demand Generation", "Product Marketing", "Content", "Events", "Digital", "Communications", "Creative"],
            locations: [2, 0, 1]),
        HRDepartmentSpec(
            code: "OPS", name: "Operations", weight: 9, jobFamily: "Operations", headTitle: "Chief Operating Officer", managerRole: "Operations",
            individualRoles: ["Operations Analyst", "Business Operations Specialist", "Program Coordinator", "Logistics Coordinator"],
            teams: ["Business Operations", "Supply Chain", "Logistics", "Program Management", "Quality", "Vendor Operations", "Strategy", "Analytics"],
            locations: [3, 5, 6, 4]),
        HRDepartmentSpec(
            code: "LEG", name: "Legal", weight: 4, jobFamily: "Legal and Compliance", headTitle: "General Counsel", managerRole: "Legal",
            individualRoles: ["Counsel", "Paralegal", "Compliance Analyst", "Contracts Specialist"],
            teams: ["Commercial", "Corporate", "Privacy", "Compliance", "Employment", "Intellectual Property", "Litigation", "Contracts"],
            locations: [2, 0]),
        HRDepartmentSpec(
            code: "CSS", name: "Support", weight: 10, jobFamily: "Customer Support", headTitle: "VP Customer Support", managerRole: "Support",
            individualRoles: ["Support Engineer", "Customer Support Specialist", "Technical Account Specialist", "Support Analyst"],
            teams: ["Tier 1", "Tier 2", "Enterprise Support", "Support Operations", "Knowledge", "Onboarding", "EMEA Support", "APAC Support"],
            locations: [6, 5, 4, 3]),
        HRDepartmentSpec(
            code: "PRD", name: "Product", weight: 6, jobFamily: "Product Management", headTitle: "Chief Product Officer", managerRole: "Product",
            individualRoles: ["Product Owner", "Product Designer", "UX Researcher", "Product Analyst"],
            teams: ["Core Product", "Growth", "Mobile Product", "Platform Product", "Design", "Research", "Insights", "Pricing"],
            locations: [0, 2, 1]),
        HRDepartmentSpec(
            code: "ITS", name: "IT", weight: 6, jobFamily: "Information Technology", headTitle: "Chief Information Officer", managerRole: "IT",
            individualRoles: ["Systems Administrator", "IT Support Specialist", "Network Engineer", "Cloud Engineer"],
            teams: ["Service Desk", "Infrastructure", "Identity", "Endpoint", "Networks", "Business Applications", "Security Operations", "Collaboration"],
            locations: [5, 3, 0]),
        HRDepartmentSpec(
            code: "PRC", name: "Procurement", weight: 4, jobFamily: "Procurement", headTitle: "VP Procurement", managerRole: "Procurement",
            individualRoles: ["Buyer", "Procurement Specialist", "Category Analyst", "Vendor Specialist"],
            teams: ["Direct Sourcing", "Indirect Sourcing", "Supplier Management", "Contracts", "Purchasing", "Category Management", "Procure-to-Pay", "Supplier Risk"],
            locations: [6, 5]),
        HRDepartmentSpec(
            code: "FAC", name: "Facilities", weight: 4, jobFamily: "Facilities and Workplace", headTitle: "Head of Facilities",
            managerRole: "Facilities", individualRoles: ["Facilities Coordinator", "Workplace Specialist", "Maintenance Technician", "Office Coordinator"],
            teams: ["Workplace", "Maintenance", "Real Estate", "Health and Safety", "Physical Security", "Office Services", "Travel", "Reception"],
            locations: [0, 1, 2, 3, 4, 5, 6, 7]),
        HRDepartmentSpec(
            code: "EXE", name: "Executive", weight: 0, jobFamily: "Executive Leadership", headTitle: "Chief Executive Officer",
            managerRole: "Executive", individualRoles: ["Executive Assistant"], teams: [], locations: [2]),
    ]

    /// Individual-contributor grades with their share (percent), US-dollar base pay and title prefix.
    static let individualGrades: [(grade: String, weight: Int, basePay: Int, prefix: String)] = [
        ("P1", 10, 55_000, "Associate "), ("P2", 25, 70_000, ""), ("P3", 30, 90_000, ""),
        ("P4", 20, 115_000, "Senior "), ("P5", 10, 145_000, "Lead "), ("P6", 5, 180_000, "Principal "),
    ]

    /// Base pay of manager and executive grades, in US dollars.
    static let leadershipPay: [String: Int] = ["M1": 120_000, "M2": 150_000, "M3": 190_000, "M4": 240_000, "E1": 300_000, "E2": 450_000]
}
