// SPDX-License-Identifier: Apache-2.0

import SimulationKit

/// How much data each tenant partition holds.
struct ERPSizes: Sendable, Equatable {
    var suppliers = 800
    var materials = 2000
    var purchaseOrders = 20_000
    var invoices = 12_000
}

/// Builds a tenant partition deterministically from the seed, the tenant name and its position in the
/// provisioned list (which selects disjoint number ranges, so a document number identifies one tenant).
enum ERPGenerator {
    /// Three years of purchasing history up to the business date.
    static let historyDays = 3 * 365

    static func partition(tenant: String, index: Int, seed: UInt64, sizes: ERPSizes) -> ERPPartition {
        var head = SeededGenerator.derive(seed: seed, "erp/\(tenant)")
        var p = ERPPartition(
            tenant: tenant, currency: head.pick(ERPVocabulary.currencies),
            supplierBase: 100_001 + index * 100_000, materialBase: 1 + index * 10_000,
            orderBase: 4_500_000_001 + index * 1_000_000, invoiceBase: 5_105_600_001 + index * 1_000_000)
        p.suppliers = suppliers(count: sizes.suppliers, base: p.supplierBase, rng: .derive(seed: seed, "erp/\(tenant)/suppliers"))
        p.costCenters = costCenters(rng: .derive(seed: seed, "erp/\(tenant)/cost-centers"))
        let families: [Int]
        (p.materials, families) = materials(count: sizes.materials, base: p.materialBase, rng: .derive(seed: seed, "erp/\(tenant)/materials"))
        generateOrders(into: &p, count: sizes.purchaseOrders, families: families, rng: .derive(seed: seed, "erp/\(tenant)/orders"))
        generateInvoices(into: &p, count: sizes.invoices, rng: .derive(seed: seed, "erp/\(tenant)/invoices"))
        return p
    }

    private static func suppliers(count: Int, base: Int, rng: SeededGenerator) -> [ERPSupplier] {
        var rng = rng
        var out: [ERPSupplier] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            let c = rng.pick(ERPVocabulary.countries)
            let name = "\(rng.pick(ERPVocabulary.supplierPrefixes)) \(rng.pick(ERPVocabulary.supplierTrades)) \(c.legalForm)"
            let terms = rng.int(0...99)
            out.append(
                ERPSupplier(
                    number: base + i, name: name, country: c.code, city: rng.pick(c.cities), blocked: rng.chance(0.05),
                    paymentDays: terms < 60 ? 30 : terms < 85 ? 45 : 60))
        }
        return out
    }

    private static func costCenters(rng: SeededGenerator) -> [ERPCostCenter] {
        var rng = rng
        return ERPVocabulary.costCenters.enumerated().map { i, name in
            ERPCostCenter(
                id: "CC\(1000 + i * 10)", name: name,
                responsible: "\(rng.pick(ERPVocabulary.firstNames)) \(rng.pick(ERPVocabulary.lastNames))")
        }
    }

    private static func materials(count: Int, base: Int, rng: SeededGenerator) -> ([ERPMaterial], [Int]) {
        var rng = rng
        var out: [ERPMaterial] = []
        var families: [Int] = []
        out.reserveCapacity(count)
        families.reserveCapacity(count)
        let plantCount = ERPCatalog.plants.count
        for i in 0..<count {
            let f = rng.int(0...(ERPVocabulary.materialFamilies.count - 1))
            let family = ERPVocabulary.materialFamilies[f]
            var stock: [Int32] = []
            for _ in 0..<plantCount {
                // A fifth of stocked positions sit at or near zero, so "below quantity" checks find something.
                let stocked = rng.chance(0.7)
                let low = rng.chance(0.2)
                let level = low ? rng.int(0...family.qty.lowerBound) : rng.int(family.qty.lowerBound...(family.qty.upperBound * 2))
                stock.append(stocked ? Int32(level) : -1)
            }
            if stock.allSatisfy({ $0 < 0 }) { stock[i % plantCount] = Int32(family.qty.upperBound) }
            out.append(
                ERPMaterial(
                    number: base + i, description: "\(family.base) \(rng.pick(family.variants))", unit: family.unit,
                    priceCents: Int64(rng.int(family.price)), stock: stock))
            families.append(f)
        }
        return (out, families)
    }

    private static func orderStatus(age: Int, rng: inout SeededGenerator) -> ERPOrderStatus {
        let r = rng.int(0...99)
        if age > 180 { return r < 88 ? .closed : r < 92 ? .rejected : .partiallyReceived }
        if age > 60 { return r < 55 ? .closed : r < 80 ? .partiallyReceived : r < 95 ? .released : .rejected }
        return r < 25 ? .awaitingApproval : r < 65 ? .released : r < 90 ? .partiallyReceived : r < 95 ? .closed : .rejected
    }

    private static func generateOrders(into p: inout ERPPartition, count: Int, families: [Int], rng: SeededGenerator) {
        var rng = rng
        let first = ERPCatalog.businessDay - Int32(historyDays - 1)
        p.orders.reserveCapacity(count)
        p.lines.reserveCapacity(count * 3)
        let supplierCount = p.suppliers.count, materialCount = p.materials.count
        guard supplierCount > 0, materialCount > 0 else { return }
        for i in 0..<count {
            // Dates rise with the order number, as they do with a real number range.
            let day = first + Int32(i * historyDays / max(count, 1))
            let u = rng.double(0...1)
            let supplier = min(Int(u * u * Double(supplierCount)), supplierCount - 1)  // trap-ok: u in 0...1, so at most supplierCount
            let status = orderStatus(age: Int(ERPCatalog.businessDay - day), rng: &rng)
            let lineCount = rng.int(1...5)
            let start = p.lines.count
            var total: Int64 = 0
            for l in 0..<lineCount {
                let m = rng.int(0...(materialCount - 1))
                let family = ERPVocabulary.materialFamilies[families[m]]
                let quantity = Int32(rng.int(family.qty))
                let price = max(1, Int64((Double(p.materials[m].priceCents) * rng.double(0.92...1.08)).rounded()))  // trap-ok: catalogue prices are small and the factor is fixed
                let received: Int32
                switch status {
                case .closed: received = quantity
                case .partiallyReceived:
                    // The first line is always short, so the order is genuinely partial.
                    received = l == 0 ? Int32(rng.int(0...Int(quantity - 1))) : (rng.chance(0.5) ? quantity : Int32(rng.int(0...Int(quantity))))
                default: received = 0
                }
                p.lines.append(ERPOrderLine(material: Int32(m), quantity: quantity, priceCents: price, received: received))
                total += Int64(quantity) * price
            }
            p.orders.append(
                ERPOrder(
                    number: p.orderBase + i, supplier: Int32(supplier), day: day, costCenter: Int32(rng.int(0...(p.costCenters.count - 1))),
                    createdBy: rng.pick(ERPVocabulary.buyers), status: status, lineStart: Int32(start), lineCount: Int32(lineCount),
                    totalCents: total))
        }
    }

    private static func invoiceStatus(age: Int, rng: inout SeededGenerator) -> ERPInvoiceStatus {
        let r = rng.int(0...99)
        if age > 60 { return r < 92 ? .paid : r < 96 ? .approved : .blocked }
        if age > 20 { return r < 50 ? .paid : r < 75 ? .approved : r < 87 ? .blocked : .parked }
        return r < 45 ? .parked : r < 65 ? .blocked : r < 95 ? .approved : .paid
    }

    private static func generateInvoices(into p: inout ERPPartition, count: Int, rng: SeededGenerator) {
        var rng = rng
        let eligible = p.orders.indices.filter { p.orders[$0].status == .closed || p.orders[$0].status == .partiallyReceived }
        guard !eligible.isEmpty, count > 0 else { return }
        p.invoices.reserveCapacity(count)
        for (e, orderIndex) in eligible.enumerated() {
            // Spread exactly `count` invoices over the invoiceable orders, in order-number order.
            let k = (e + 1) * count / eligible.count - e * count / eligible.count
            guard k > 0 else { continue }
            let order = p.orders[orderIndex]
            let received = max(p.receivedCents(of: order), 100)
            for part in 0..<k {
                // Invoices follow the order by one to six weeks, never after the business date.
                let room = Int(ERPCatalog.businessDay - order.day)
                let day = order.day + Int32(rng.int(min(7 + part * 20, room)...min(45 + part * 20, room)))
                let status = invoiceStatus(age: Int(ERPCatalog.businessDay - day), rng: &rng)
                var amount = received / Int64(k)
                var reason = ERPInvoice.BlockReason.none
                if status == .blocked {
                    reason = rng.chance(0.6) ? .price : .quantity
                    // A price variance is an invoice above the agreed price.
                    if reason == .price { amount = Int64((Double(amount) * rng.double(1.02...1.08)).rounded()) }  // trap-ok: generated amounts times a fixed factor
                }
                p.invoices.append(
                    ERPInvoice(
                        number: p.invoiceBase + p.invoices.count, order: Int32(orderIndex), day: day, amountCents: amount,
                        status: status, blockReason: reason))
            }
        }
    }
}
