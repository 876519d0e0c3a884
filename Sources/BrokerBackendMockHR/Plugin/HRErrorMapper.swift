// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore

/// What a request was about, so a native error can name the business object in its message.
struct HRErrorSubject: Sendable {
    var employeeID: String?
    var managerID: String?
    var startDate: String?
    var endDate: String?
    var idempotencyKey: String?
}

/// Turns the HR system's native errors (`{"errors": [{"error", "code", "field"}]}` with an HTTP-like status) into
/// ``BrokerError``s with business-meaningful messages. Native text never reaches a client: it goes to `detail`.
struct HRErrorMapper: Sendable {
    let backend: String

    func map(_ response: HRNativeResponse, subject: HRErrorSubject) -> BrokerError {
        let entry = response.body["errors"]?.arrayValue?.first ?? .null
        let code = entry["code"]?.stringValue ?? ""
        let field = entry["field"]?.stringValue ?? ""
        let detail = "HTTP \(response.status) \(code) field=\(field): \(entry["error"]?.stringValue ?? response.body.jsonText.prefix(300).description)"
        let employee = subject.employeeID ?? "?"
        switch (response.status, code) {
        case (401, _):
            return BrokerError(
                .backendCredentialsRejected,
                "The HR system rejected the broker's credentials; an administrator must check backends.\(backend).credentials.",
                backend: backend, detail: detail)
        case (503, _):
            return .unavailable("The HR system (\(backend)) is not responding right now; try again in a moment.", backend: backend, detail: detail)
        case (404, "INVALID_TENANT"):
            return BrokerError(.forbidden, "Your organisation is not provisioned in the HR system (\(backend)).", backend: backend, detail: detail)
        case (404, "INVALID_ID"):
            if field == "Manager_Worker_ID" { return notFound("Manager \(subject.managerID ?? "?") not found.", detail) }
            return notFound("Employee \(employee) not found.", detail)
        case (400, _):
            return invalid(field: field, subject: subject, detail: detail)
        case (409, "INSUFFICIENT_BALANCE"):
            let available = Self.days(entry["Available_Days"]?.doubleValue ?? 0)
            let requested = Self.days(entry["Requested_Days"]?.doubleValue ?? 0)
            return conflict(
                "Employee \(employee) has \(available) days of annual leave left; the request needs \(requested).", detail)
        case (409, "OVERLAPPING_REQUEST"):
            let other = entry["Conflicting_Request_ID"]?.stringValue ?? "another request"
            let from = entry["Conflicting_Start_Date"]?.stringValue ?? "?"
            let to = entry["Conflicting_End_Date"]?.stringValue ?? "?"
            let status = HRNormalizer.requestStatus(entry["Conflicting_Status"]?.stringValue ?? "")
            return conflict(
                "Employee \(employee) already has leave request \(other) (\(status), \(from) to \(to)) overlapping that period; choose other dates.",
                detail)
        case (409, "IDEMPOTENCY_CONFLICT"):
            return conflict(
                "The idempotency key \(subject.idempotencyKey ?? "") was already used for a different leave request; use a new idempotency_key for a new request.",
                detail)
        case (409, "REQUEST_IN_PROGRESS"):
            return BrokerError(
                .conflict, "The same leave request is still being processed; retry with the same idempotency_key in a moment.",
                retriable: true, backend: backend, detail: detail)
        case (409, "INACTIVE_WORKER"):
            return conflict("Employee \(employee) is terminated and cannot request leave.", detail)
        default:
            return BrokerError(
                .backendError, "The HR system returned an unexpected error (status \(response.status)).", backend: backend, detail: detail)
        }
    }

    private func invalid(field: String, subject: HRErrorSubject, detail: String) -> BrokerError {
        let message: String
        switch field {
        case "End_Date": message = "end_date must be on or after start_date and at most 366 days later."
        case "Start_Date": message = "start_date is not a valid date (yyyy-MM-dd)."
        case "Days":
            message = "The period \(subject.startDate ?? "?") to \(subject.endDate ?? "?") contains no working days (Monday to Friday)."
        case "Plan": message = "leave_type must be one of annual, sick, parental, unpaid."
        case "Comment": message = "reason must be at most 500 characters."
        case "depth": message = "depth must be between 1 and 3."
        case "Worker_Status": message = "status must be one of active, on_leave, terminated."
        case "limit", "offset": message = "page_size must be between 1 and 100."
        case "Idempotency-Key": message = "idempotency_key is required."
        default: message = "The HR system refused the request as invalid; check the arguments."
        }
        var error = BrokerError.invalidArguments(message)
        error.backend = backend
        error.detail = detail
        return error
    }

    private func notFound(_ message: String, _ detail: String) -> BrokerError {
        BrokerError(.notFound, message, backend: backend, detail: detail)
    }

    private func conflict(_ message: String, _ detail: String) -> BrokerError {
        BrokerError(.conflict, message, backend: backend, detail: detail)
    }

    /// `3.5`, or `5` for whole days.
    static func days(_ value: Double) -> String {
        value.plainText
    }
}
