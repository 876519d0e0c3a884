// SPDX-License-Identifier: Apache-2.0

/// Validation and capping of the W3C `tracestate` vendor list.
///
/// The broker adds no entry of its own; it forwards what the caller sent, provided it is well formed: at most 32
/// list members, keys and values of the W3C grammar, no duplicate keys. A longer list than 512 characters is cut
/// as the spec suggests (members over 128 characters go first, then members from the end). Anything malformed
/// drops the whole value, as W3C requires. Input past ``maxInputBytes`` is dropped unread, so hostile input costs
/// little.
public enum TraceState {
    /// Members kept at most (W3C).
    public static let maxMembers = 32
    /// Length we forward at most (W3C: propagate at least 512 characters).
    public static let maxLength = 512
    /// Longer input is not even parsed: 32 members of the largest legal size stay well under it.
    static let maxInputBytes = 32 * 1024

    /// The value to forward, or `nil` when absent, empty, malformed or hostile.
    public static func normalize(_ value: String) -> String? {
        guard value.utf8.count <= maxInputBytes else { return nil }
        var members: [Substring] = []
        var keys: Set<Substring> = []
        for raw in value.split(separator: ",", omittingEmptySubsequences: false) {
            let member = trimOWS(raw)
            if member.isEmpty { continue }  // empty list members are allowed and dropped
            guard members.count < maxMembers, let eq = member.firstIndex(of: "=") else { return nil }
            let key = member[..<eq], val = member[member.index(after: eq)...]
            guard isValidKey(key), isValidValue(val), keys.insert(key).inserted else { return nil }
            members.append(member)
        }
        if members.isEmpty { return nil }
        var length = members.reduce(0) { $0 + $1.utf8.count } + members.count - 1
        if length > maxLength {
            members.removeAll { $0.utf8.count > 128 }
            length = members.reduce(0) { $0 + $1.utf8.count } + max(0, members.count - 1)
            while length > maxLength, let last = members.popLast() { length -= last.utf8.count + (members.isEmpty ? 0 : 1) }
        }
        return members.isEmpty ? nil : members.joined(separator: ",")
    }

    static func trimOWS(_ s: Substring) -> Substring {
        var s = s
        while let f = s.utf8.first, f == 0x20 || f == 0x09 { s = s.dropFirst() }
        while let l = s.utf8.last, l == 0x20 || l == 0x09 { s = s.dropLast() }
        return s
    }

    /// `simple-key` or `tenant-id@system-id` (W3C Trace Context, tracestate key grammar).
    static func isValidKey(_ key: Substring) -> Bool {
        let u = Array(key.utf8)
        guard !u.isEmpty, u.count <= 256 else { return false }
        if let at = u.firstIndex(of: UInt8(ascii: "@")) {
            let tenant = u[..<at], system = u[(at + 1)...]
            guard let t0 = tenant.first, isLowerAlpha(t0) || isDigit(t0), tenant.count <= 241 else { return false }
            guard let s0 = system.first, isLowerAlpha(s0), system.count <= 14 else { return false }
            return tenant.allSatisfy(isKeyChar) && system.allSatisfy(isKeyChar)
        }
        guard isLowerAlpha(u[0]) else { return false }
        return u.allSatisfy(isKeyChar)
    }

    /// 1-256 printable ASCII characters other than `,` and `=`, not ending in a space.
    static func isValidValue(_ value: Substring) -> Bool {
        let u = value.utf8
        guard let last = u.last, u.count <= 256, last != 0x20 else { return false }
        return u.allSatisfy { $0 >= 0x20 && $0 <= 0x7E && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "=") }
    }

    static func isLowerAlpha(_ c: UInt8) -> Bool { c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") }
    static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    static func isKeyChar(_ c: UInt8) -> Bool {
        isLowerAlpha(c) || isDigit(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: "*") || c == UInt8(ascii: "/")
    }
}
