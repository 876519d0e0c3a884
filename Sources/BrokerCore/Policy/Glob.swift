// SPDX-License-Identifier: Apache-2.0

import Foundation

/// A name pattern where `*` matches any run of characters (`hr__*`, `*__list_*`, `broker://warehouse/*`).
///
/// Compiled once at configuration load into its literal pieces, so matching is a few prefix/suffix/substring
/// checks with no regex engine on the request path.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    public let pattern: String
    private let pieces: [String]

    public init(_ pattern: String) {
        self.pattern = pattern
        self.pieces = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
    }

    public var description: String { pattern }

    /// Whether `name` matches the whole pattern.
    public func matches(_ name: String) -> Bool {
        guard pieces.count > 1 else { return name == pattern }
        var rest = Substring(name)
        guard let first = pieces.first, rest.hasPrefix(first) else { return false }
        rest = rest.dropFirst(first.count)
        for piece in pieces.dropFirst().dropLast() where !piece.isEmpty {
            guard let r = rest.range(of: piece) else { return false }
            rest = rest[r.upperBound...]
        }
        guard let last = pieces.last else { return true }
        return rest.count >= last.count && rest.hasSuffix(last)
    }
}

extension Array where Element == Glob {
    /// Whether any pattern matches.
    func anyMatches(_ name: String) -> Bool { contains { $0.matches(name) } }
}
