// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// One request on the simulated ERP's OData-v2-flavoured wire.
///
/// `path` addresses an entity set (`/A_PurchaseOrder`), an entity (`/A_PurchaseOrder('4500000001')`) or a
/// function import (`/ReleaseSupplierInvoice`). `query` carries the system query options (`$top`, `$skip`,
/// `$filter`, `$inlinecount`, `$orderby`, `$expand`); `$filter` is a structured list of conditions
/// `[{"property": "BEDAT", "op": "ge", "value": "20250101"}]` instead of OData text. Header names are lower case.
struct ERPRequest: Sendable {
    enum Method: String, Sendable { case get = "GET", post = "POST" }

    var method: Method
    var path: String
    var query: [String: JSONValue] = [:]
    var body: JSONValue? = nil
    var headers: [String: String] = [:]

    /// The client (`sap-client`) header.
    static let clientHeader = "sap-client"
    /// HTTP basic authentication.
    static let authorizationHeader = "authorization"
    /// Selects the tenant's data partition.
    static let partitionHeader = "x-erp-partition"
    /// SAP's idempotency header for write requests.
    static let repeatabilityHeader = "repeatability-request-id"
}

/// The system's answer: an HTTP status and a native JSON body (`{"d": …}` or `{"error": …}`).
struct ERPResponse: Sendable {
    var status: Int
    var body: JSONValue

    /// `{"d": entity}`.
    static func entity(_ e: JSONValue, status: Int = 200) -> ERPResponse { ERPResponse(status: status, body: ["d": e]) }

    /// `{"d": {"results": [...], "__count": "n", "__next": "..."}}`.
    static func collection(_ rows: [JSONValue], count: Int?, next: String?) -> ERPResponse {
        var d: [String: JSONValue] = ["results": .array(rows)]
        if let count { d["__count"] = .string(String(count)) }
        if let next { d["__next"] = .string(next) }
        return ERPResponse(status: 200, body: ["d": .object(d)])
    }

    /// A native error body; `inner` carries machine-readable detail (the failing key, the current status).
    static func error(_ status: Int, _ code: String, _ text: String, inner: [String: JSONValue] = [:]) -> ERPResponse {
        var e: [String: JSONValue] = ["code": .string(code), "message": ["lang": "en", "value": .string(text)]]
        if !inner.isEmpty { e["innererror"] = .object(inner) }
        return ERPResponse(status: status, body: ["error": .object(e)])
    }

    /// The native error code, when this is an error.
    var errorCode: String? { body["error"]?["code"]?.stringValue }
    /// The native error detail object, when present.
    var innerError: JSONValue? { body["error"]?["innererror"] }
}

/// The native error codes of the simulated system.
enum ERPCode {
    static let invalidFilter = "ME/083"
    static let badRequest = "/IWBEP/CM_MGW_RT/020"
    static let logonFailed = "/IWFND/CM_CONSUMER/401"
    static let partitionUnknown = "/IWFND/CM_CONSUMER/403"
    static let resourceUnknown = "/IWFND/CM_MGW/404"
    static let orderNotFound = "ME/006"
    static let invoiceNotFound = "M8/045"
    static let vendorNotFound = "FK/005"
    static let materialNotFound = "M3/305"
    static let costCenterNotFound = "KI/235"
    static let vendorBlocked = "ME/046"
    static let orderValueTooLarge = "ME/082"
    static let repeatabilityConflict = "ME/409"
    static let invoiceNotReleasable = "M8/350"
    static let serviceUnavailable = "/IWFND/SRV/503"
    static let logonConfiguration = "/IWFND/CM_BEC/026"
}
