// SPDX-License-Identifier: Apache-2.0

/// Which credential set a backend presents for which tenant, for `mcp-broker validate` and operators.
///
/// A backend that serves several tenants with one credential set relies on the remote system to keep them
/// apart; that is a deliberate decision an operator must be able to see at a glance, so kinds that key
/// credentials by tenant report it.
public protocol CredentialScopeReporting: Sendable {
    /// Whether every tenant without its own credential set uses the backend-level one.
    var usesSharedCredentials: Bool { get }
    /// Tenants with their own credential set, sorted.
    var tenantsWithOwnCredentials: [String] { get }
}

extension CredentialScopeReporting {
    /// One line for `validate`, e.g. `shared credentials: no (own credential sets: acme, globex)`.
    public var credentialScopeSummary: String {
        let own = tenantsWithOwnCredentials.isEmpty ? "none" : tenantsWithOwnCredentials.joined(separator: ", ")
        return usesSharedCredentials
            ? "shared credentials: yes (tenants without their own set use the backend-level auth; own credential sets: \(own))"
            : "shared credentials: no (own credential sets: \(own); any other tenant is refused)"
    }
}
