// SPDX-License-Identifier: Apache-2.0

// The simulated ERP's tables, stored as compact structs: one partition per tenant holds tens of thousands of
// rows, so rows keep indices and integer cents rather than strings or JSON; native JSON is built only for
// the rows a request returns.

/// Purchase order processing status (EKKO-PROCSTAT), with the system's native codes.
enum ERPOrderStatus: UInt8, Sendable, CaseIterable {
    case awaitingApproval, released, partiallyReceived, rejected, closed

    /// The native code on the wire.
    var code: String {
        switch self {
        case .awaitingApproval: "02"
        case .released: "05"
        case .partiallyReceived: "06"
        case .rejected: "08"
        case .closed: "09"
        }
    }

    init?(code: String) {
        guard let s = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = s
    }
}

/// Logistics invoice status (RBKP-RBSTAT), with the system's native codes.
enum ERPInvoiceStatus: UInt8, Sendable, CaseIterable {
    case parked, blocked, approved, paid

    /// The native code on the wire.
    var code: String {
        switch self {
        case .parked: "A"
        case .blocked: "B"
        case .approved: "C"
        case .paid: "D"
        }
    }

    init?(code: String) {
        guard let s = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = s
    }
}

/// Vendor master (LFA1).
struct ERPSupplier: Sendable {
    var number: Int
    var name: String
    var country: String
    var city: String
    var blocked: Bool
    /// Net payment days: 30, 45 or 60 (ZTERM NT30/NT45/NT60).
    var paymentDays: Int
}

/// Cost centre master (CSKS).
struct ERPCostCenter: Sendable {
    var id: String
    var name: String
    var responsible: String
}

/// Material master with its plant stock (MARA + MARD, storage location 0001 only).
struct ERPMaterial: Sendable {
    var number: Int
    var description: String
    var unit: String
    var priceCents: Int64
    /// Unrestricted stock per plant in ``ERPCatalog/plants`` order; -1 when the plant does not stock it.
    var stock: [Int32]
}

/// Purchase order header (EKKO); its items live in ``ERPPartition/lines``.
struct ERPOrder: Sendable {
    var number: Int
    var supplier: Int32
    var day: Int32
    var costCenter: Int32
    var createdBy: String
    var status: ERPOrderStatus
    var lineStart: Int32
    var lineCount: Int32
    var totalCents: Int64
}

/// Purchase order item (EKPO) with its goods-receipt quantity.
struct ERPOrderLine: Sendable {
    var material: Int32
    var quantity: Int32
    var priceCents: Int64
    var received: Int32
}

/// Supplier invoice header (RBKP).
struct ERPInvoice: Sendable {
    /// Why an invoice is blocked for payment.
    enum BlockReason: UInt8, Sendable { case none, price, quantity }

    var number: Int
    var order: Int32
    var day: Int32
    var amountCents: Int64
    var status: ERPInvoiceStatus
    var blockReason: BlockReason
}

/// One tenant's data. Numbers are sequential from the partition's bases, so lookups are arithmetic.
struct ERPPartition: Sendable {
    var tenant: String
    var currency: String
    var supplierBase: Int
    var materialBase: Int
    var orderBase: Int
    var invoiceBase: Int
    var suppliers: [ERPSupplier] = []
    var costCenters: [ERPCostCenter] = []
    var materials: [ERPMaterial] = []
    var orders: [ERPOrder] = []
    var lines: [ERPOrderLine] = []
    var invoices: [ERPInvoice] = []

    func supplierIndex(_ number: Int) -> Int? { Self.index(number, base: supplierBase, count: suppliers.count) }
    func materialIndex(_ number: Int) -> Int? { Self.index(number, base: materialBase, count: materials.count) }
    func orderIndex(_ number: Int) -> Int? { Self.index(number, base: orderBase, count: orders.count) }
    func invoiceIndex(_ number: Int) -> Int? { Self.index(number, base: invoiceBase, count: invoices.count) }
    func costCenterIndex(_ id: String) -> Int? { costCenters.firstIndex { $0.id == id } }

    private static func index(_ number: Int, base: Int, count: Int) -> Int? {
        let i = number - base
        return i >= 0 && i < count ? i : nil
    }

    /// The items of `order`.
    func lines(of order: ERPOrder) -> ArraySlice<ERPOrderLine> {
        lines[Int(order.lineStart)..<Int(order.lineStart + order.lineCount)]
    }

    /// Value of goods received but not necessarily invoiced, in cents.
    func receivedCents(of order: ERPOrder) -> Int64 {
        lines(of: order).reduce(0) { $0 + Int64($1.received) * $1.priceCents }
    }

    /// Value still to be delivered, in cents.
    func outstandingCents(of order: ERPOrder) -> Int64 {
        lines(of: order).reduce(0) { $0 + Int64($1.quantity - $1.received) * $1.priceCents }
    }
}

/// Fixed reference data of the simulated system.
enum ERPCatalog {
    /// Plants (WERKS) and their names, in stock-array order.
    static let plants: [(code: String, name: String, city: String)] = [
        ("1000", "Hamburg Plant", "Hamburg"), ("2000", "Lyon Plant", "Lyon"), ("3000", "Chicago Plant", "Chicago"),
    ]
    /// The only storage location simulated (LGORT).
    static let storageLocation = "0001"
    /// The system's business date, 2026-06-30: data is generated relative to it and new documents carry it,
    /// so every run sees the same data regardless of the wall clock.
    static let businessDay: Int32 = ERPCalendar.day(year: 2026, month: 6, day: 30)
    /// The largest order value the ERP stores (DEC 15,2), in cents.
    static let maxOrderCents: Int64 = 999_999_999_999_999
}
