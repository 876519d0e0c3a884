// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// Reference data, entity lookups by URI, and prompts.
extension MockERPBackend {
    static let referencePaths = ["reference/po-status-codes", "reference/invoice-status-codes", "reference/plants", "schemas/purchase-order"]

    static func resourceList(backend: String) -> [Resource] {
        [
            Resource(
                uri: ResourceURI.make(backend: backend, path: "reference/po-status-codes"), name: "po-status-codes",
                title: "Purchase order status codes", description: "ERP purchase order status codes, the status words the tools use, and their meaning."),
            Resource(
                uri: ResourceURI.make(backend: backend, path: "reference/invoice-status-codes"), name: "invoice-status-codes",
                title: "Invoice status codes", description: "ERP invoice status codes, the status words the tools use, and their meaning."),
            Resource(
                uri: ResourceURI.make(backend: backend, path: "reference/plants"), name: "plants", title: "Plants",
                description: "Plants (sites) that hold stock, with their storage locations."),
            Resource(
                uri: ResourceURI.make(backend: backend, path: "schemas/purchase-order"), name: "purchase-order-schema",
                title: "Purchase order schema", description: "JSON Schema of a purchase order as get_purchase_order returns it.",
                mimeType: "application/schema+json"),
        ]
    }

    static func templateList(backend: String) -> [ResourceTemplate] {
        [
            ResourceTemplate(
                uriTemplate: ResourceURI.make(backend: backend, path: "purchase-orders/{po_number}"), name: "purchase-order",
                title: "Purchase order", description: "One purchase order with its lines (same as get_purchase_order)."),
            ResourceTemplate(
                uriTemplate: ResourceURI.make(backend: backend, path: "suppliers/{supplier_id}"), name: "supplier",
                title: "Supplier", description: "One supplier with open-order figures (same as get_supplier)."),
            ResourceTemplate(
                uriTemplate: ResourceURI.make(backend: backend, path: "invoices/{invoice_id}"), name: "invoice",
                title: "Supplier invoice", description: "One supplier invoice with its purchase order (same as get_invoice)."),
        ]
    }

    static func referenceDocument(_ path: String) -> JSONValue? {
        switch path {
        case "reference/po-status-codes":
            return ["statuses": .array(ERPNormalizer.orderStatuses.map { ["code": .string($0.code), "status": .string($0.status), "meaning": .string($0.meaning)] })]
        case "reference/invoice-status-codes":
            return ["statuses": .array(ERPNormalizer.invoiceStatuses.map { ["code": .string($0.code), "status": .string($0.status), "meaning": .string($0.meaning)] })]
        case "reference/plants":
            return [
                "plants": .array(
                    ERPCatalog.plants.map {
                        ["plant": .string($0.code), "name": .string($0.name), "city": .string($0.city), "storage_locations": [.string(ERPCatalog.storageLocation)]]
                    })
            ]
        case "schemas/purchase-order":
            return ERPSchemas.order.merging(["$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Purchase order"])
        default:
            return nil
        }
    }

    func readResource(uri: String, context: CallContext) async throws -> [ResourceContents] {
        guard let path = ResourceURI.path(of: uri), ResourceURI.backend(of: uri) == name else { throw BrokerError.notFound("Resource \(uri) not found.") }
        if let doc = Self.referenceDocument(path) {
            let mime = path.hasPrefix("schemas/") ? "application/schema+json" : "application/json"
            return [ResourceContents(uri: uri, mimeType: mime, text: doc.jsonText)]
        }
        let value: JSONValue
        if let b = resourceTemplates[0].match(uri), let po = b["po_number"] {
            guard Self.matches(po, digits: 10...10) else { throw BrokerError.notFound("Purchase order \(po) not found.") }
            value = try await purchaseOrder(po, context)
        } else if let b = resourceTemplates[1].match(uri), let id = b["supplier_id"] {
            guard Self.matches(id, digits: 1...10) else { throw BrokerError.notFound("Supplier \(id) not found.") }
            value = try await supplierDetail(id, context)
        } else if let b = resourceTemplates[2].match(uri), let id = b["invoice_id"] {
            guard Self.matches(id, digits: 10...10) else { throw BrokerError.notFound("Invoice \(id) not found.") }
            value = try await invoiceDetail(id, context)
        } else {
            throw BrokerError.notFound("Resource \(uri) not found.")
        }
        return [ResourceContents(uri: uri, mimeType: "application/json", text: value.jsonText)]
    }

    private static func matches(_ s: String, digits: ClosedRange<Int>) -> Bool {
        digits.contains(s.count) && s.allSatisfy { $0.isASCII && $0.isNumber }
    }

    // MARK: Prompts

    static func promptList() -> [Prompt] {
        [
            Prompt(
                name: "summarize_open_purchase_orders", title: "Summarize open purchase orders for a supplier",
                description: "Summarize open purchase orders for a supplier: totals, oldest open orders and risks.",
                arguments: [PromptArgument(name: "supplier_id", description: "Supplier number, e.g. 0000100017.", required: true)]),
            Prompt(
                name: "invoice_exception_review", title: "Review blocked invoices",
                description: "Review supplier invoices blocked for payment (price or quantity variances) and recommend what to do.",
                arguments: [PromptArgument(name: "cost_center", description: "Limit the review to one cost centre, e.g. CC1000.", required: false)]),
        ]
    }

    func getPrompt(_ prompt: String, arguments: [String: String], context: CallContext) async throws -> GetPromptResult {
        let t = { (tool: String) in "\(self.name)__\(tool)" }
        switch prompt {
        case "summarize_open_purchase_orders":
            let id = arguments["supplier_id"] ?? ""
            let text = """
                Summarize the open purchase orders of supplier \(id) in the ERP system.
                1. Call \(t("get_supplier")) with {"supplier_id": "\(id)"} for the supplier's name, purchasing status, payment terms, open order count and the value still to be delivered.
                2. Call \(t("search_purchase_orders")) with {"supplier_id": "\(id)", "status": "released"} and again with "status": "partially_received". Follow next_cursor until you have every open order.
                3. For the oldest or largest orders, call \(t("get_purchase_order")) to see which lines are still outstanding.
                Report: the number of open orders and their total value (with currency), the value still to be delivered, the oldest open orders (number, order date, age in days), and risks: a blocked supplier, orders open for more than 90 days, partial deliveries that stalled, and unusually large orders.
                """
            return GetPromptResult(description: "Open purchase orders of supplier \(id)", messages: [PromptMessage(role: .user, content: .text(text))])
        case "invoice_exception_review":
            let cc = arguments["cost_center"].flatMap { $0.isEmpty ? nil : $0 }
            let filter = cc.map { ", \"cost_center\": \"\($0)\"" } ?? ""
            let scope = cc.map { " charged to cost centre \($0)" } ?? ""
            let text = """
                Review the supplier invoices\(scope) that are blocked for payment.
                1. Call \(t("search_invoices")) with {"status": "blocked"\(filter)} and follow next_cursor to collect them.
                2. For each blocked invoice, call \(t("get_invoice")) and \(t("get_purchase_order")) with its po_number; compare the invoiced amount with the ordered and received value (block_reason tells whether it is a price or a quantity variance).
                3. Group the invoices by supplier and by size of the variance.
                Recommend for each invoice: approve (only small, explainable variances), ask the supplier for a credit note, or wait for the goods receipt. Do not call \(t("approve_invoice")) unless the user explicitly confirms; it needs a new idempotency_key per invoice.
                """
            return GetPromptResult(description: "Blocked invoice review\(scope)", messages: [PromptMessage(role: .user, content: .text(text))])
        default:
            throw BrokerError.notFound("Prompt \(prompt) not found.")
        }
    }
}
