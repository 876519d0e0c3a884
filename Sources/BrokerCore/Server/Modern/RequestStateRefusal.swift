// SPDX-License-Identifier: Apache-2.0

/// Why a requestState was refused.
///
/// ``message`` is safe to show the client: it says what happened and what to do (call the tool again for a new
/// confirmation) and never echoes the token. ``reason`` is a short label for logs and the audit trail.
public enum RequestStateRefusal: Error, Sendable, Equatable {
    /// Too long, not base64url, wrong size or an unknown version: not something this broker issued.
    case malformed
    /// The authenticated encryption did not verify: altered, or sealed with another key.
    case tampered
    /// Past its expiry, or issued implausibly far in the future.
    case expired
    /// Issued for another tenant, principal, tool or other arguments.
    case mismatched
    /// Already used once (each confirmation runs the tool at most once).
    case replayed

    /// A client-facing sentence naming the problem and the remedy.
    public var message: String {
        let remedy = "call the tool again to get a new confirmation request"
        switch self {
        case .malformed: return "The confirmation state is not valid; \(remedy)."
        case .tampered: return "The confirmation state was altered; \(remedy)."
        case .expired: return "The confirmation has expired; \(remedy)."
        case .mismatched: return "The confirmation was issued for another call; \(remedy)."
        case .replayed: return "The confirmation was already used; \(remedy)."
        }
    }

    /// A short label for logs and audit records.
    public var reason: String {
        switch self {
        case .malformed: return "malformed"
        case .tampered: return "tampered"
        case .expired: return "expired"
        case .mismatched: return "mismatched"
        case .replayed: return "replayed"
        }
    }
}
