// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// Maps the ERP's native error responses to business-meaningful ``BrokerError``s. Native message text goes only
/// into `detail` (debug logs), never into the client-facing message.
struct ERPErrorMapper: Sendable {
    let backend: String

    func credentialsRejected() -> BrokerError {
        BrokerError(
            .backendCredentialsRejected,
            "The ERP system rejected the broker's credentials; an administrator must check backends.\(backend).credentials.", backend: backend)
    }

    func unavailable(detail: String? = nil) -> BrokerError {
        .unavailable("The ERP system is not responding right now; try again in a moment.", backend: backend, detail: detail)
    }

    func map(_ response: ERPResponse) -> BrokerError {
        let code = response.errorCode ?? ""
        let inner = response.innerError
        let key = inner?["key"]?.stringValue ?? ""
        let detail = "HTTP \(response.status) \(code): \(response.body["error"]?["message"]?["value"]?.stringValue ?? "")"
        switch (response.status, code) {
        case (401, _):
            return credentialsRejected()
        case (403, _):
            return BrokerError(.forbidden, "Your organisation is not provisioned in the ERP system (\(backend)).", backend: backend)
        case (503, _):
            return unavailable(detail: detail)
        case (_, ERPCode.orderNotFound):
            return .notFound("Purchase order \(key) not found.")
        case (_, ERPCode.invoiceNotFound):
            return .notFound("Invoice \(key) not found.")
        case (404, ERPCode.vendorNotFound):
            return .notFound("Supplier \(key) not found.")
        case (_, ERPCode.vendorNotFound):
            return .invalidArguments("Supplier \(key) does not exist; search_suppliers finds valid supplier ids.")
        case (_, ERPCode.costCenterNotFound):
            return .invalidArguments("Cost centre \(key) does not exist; list_cost_centers shows the valid ones.")
        case (_, ERPCode.materialNotFound):
            let line = (inner?["item"]?.stringValue).flatMap { Int($0) }.map { " (line \($0 / 10))" } ?? ""
            return .invalidArguments("Material \(key)\(line) does not exist; check_inventory finds valid material ids.")
        case (_, ERPCode.orderValueTooLarge):
            return .invalidArguments(
                "The order's total value exceeds the largest amount the ERP holds (\(ERPNormalizer.maxAmount.plainText)); lower the quantities or split it into several orders.")
        case (_, ERPCode.vendorBlocked):
            return .conflict("Supplier \(key) is blocked for purchasing; choose another supplier or ask procurement to unblock it.")
        case (_, ERPCode.repeatabilityConflict):
            return .conflict("This idempotency_key was already used for a different request; use a new idempotency_key for a new request.")
        case (_, ERPCode.invoiceNotReleasable):
            let state = inner?["RBSTAT"]?.stringValue.map { ERPNormalizer.invoiceStatus(code: $0) } ?? "unknown"
            let phrase = state == "paid" ? "is already paid" : state == "approved" ? "is already approved for payment" : "is \(state)"
            return .conflict("Invoice \(key) \(phrase) and cannot be approved.")
        default:
            var error = BrokerError(.backendError, "The ERP system could not process the request.", backend: backend, detail: detail)
            error.isRetriable = response.status >= 500
            // A 4xx refuses this request's content; the ERP itself answered, so it says nothing about its health.
            error.isCallerFault = (400..<500).contains(response.status)
            return error
        }
    }
}
