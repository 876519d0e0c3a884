// SPDX-License-Identifier: Apache-2.0

/// A configuration problem, reported the way ops need it: which file, which key, and why.
///
/// `description` reads `config/broker.yaml: backends.hr.latency_ms: expected an integer, got "fast"`.
public struct ConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The file the value came from.
    public let file: String
    /// Dotted key path (`backends.hr.credentials.password`); empty for the document root.
    public let path: String
    /// What is wrong and, where possible, what to write instead.
    public let reason: String
    /// 1-based line in `file`, when known.
    public let line: Int?

    public init(file: String, path: String, reason: String, line: Int? = nil) {
        self.file = file
        self.path = path
        self.reason = reason
        self.line = line
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return path.isEmpty ? "\(location): \(reason)" : "\(location): \(path): \(reason)"
    }
}
