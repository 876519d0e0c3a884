// SPDX-License-Identifier: Apache-2.0

import Foundation
import MCPCore
import Yams

/// One YAML mapping of the configuration, read strictly.
///
/// Every accessor records the key it read; ``finish()`` then refuses any key nobody read, so a typo such as
/// `latncy_ms` is an error naming the file and the path instead of a silently ignored setting. Each backend kind
/// reads its own section through this type. Used only while loading (not thread-safe, not `Sendable`).
public final class ConfigNode {
    /// The file this mapping came from.
    public let file: String
    /// Dotted path of this mapping.
    public let path: String
    let line: Int?
    let entries: [(key: String, value: Node, line: Int?)]
    private var read: Set<String> = []

    init(file: String, path: String, mapping: Node.Mapping, line: Int?) throws(ConfigError) {
        self.file = file
        self.path = path
        self.line = line
        var seen = Set<String>()
        var list: [(String, Node, Int?)] = []
        for (k, v) in mapping {
            guard let key = k.string else {
                throw ConfigError(file: file, path: path, reason: "keys must be strings", line: k.mark.map { $0.line })
            }
            guard seen.insert(key).inserted else {
                throw ConfigError(file: file, path: Self.join(path, key), reason: "duplicate key", line: k.mark.map { $0.line })
            }
            list.append((key, v, k.mark.map { $0.line }))
        }
        self.entries = list
    }

    /// Parses a YAML document whose root must be a mapping.
    public static func parse(yaml: String, file: String) throws(ConfigError) -> ConfigNode {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(file: file, path: "", reason: "not valid YAML (\(String(describing: error).prefix(200)))")
        }
        guard let node, case .mapping(let m) = node else {
            throw ConfigError(file: file, path: "", reason: "the document must be a mapping of settings")
        }
        return try ConfigNode(file: file, path: "", mapping: m, line: node.mark?.line)
    }

    /// Loads and parses a file.
    public static func load(file: String) throws(ConfigError) -> ConfigNode {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigError(file: file, path: "", reason: "file not found or unreadable")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw ConfigError(file: file, path: "", reason: "file is not UTF-8") }
        return try parse(yaml: text, file: file)
    }

    static func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : "\(a).\(b)" }

    /// The names of all keys in this mapping, in file order.
    public var keys: [String] { entries.map(\.key) }

    /// Whether `key` is present.
    public func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    func entry(_ key: String) -> (value: Node, line: Int?)? {
        read.insert(key)
        guard let e = entries.first(where: { $0.key == key }) else { return nil }
        if case .scalar(let s) = e.value, s.tag.description == "tag:yaml.org,2002:null" || (s.style == .plain && (s.string == "~" || s.string == "null")) {
            return nil
        }
        return (e.value, e.line)
    }

    /// An error located at `key` of this mapping.
    public func error(_ key: String?, _ reason: String) -> ConfigError {
        let line = key.flatMap { k in entries.first(where: { $0.key == k })?.line } ?? self.line
        return ConfigError(file: file, path: key.map { Self.join(path, $0) } ?? path, reason: reason, line: line)
    }

    private func describe(_ n: Node) -> String {
        switch n {
        case .scalar(let s): return "\"\(s.string.prefix(40))\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    private func scalar(_ key: String, _ what: String) throws(ConfigError) -> (Node, String)? {
        guard let (v, _) = entry(key) else { return nil }
        guard case .scalar(let s) = v else { throw error(key, "expected \(what), got \(describe(v))") }
        return (v, s.string)
    }

    /// An optional string.
    public func optionalString(_ key: String) throws(ConfigError) -> String? {
        try scalar(key, "a string")?.1
    }

    /// A string, with a default when absent, or required when `default` is `nil`.
    public func string(_ key: String, default def: String? = nil) throws(ConfigError) -> String {
        if let s = try optionalString(key) { return s }
        if let def { return def }
        throw error(key, "is required")
    }

    /// An integer in `range`.
    public func int(_ key: String, default def: Int? = nil, range: ClosedRange<Int>? = nil) throws(ConfigError) -> Int {
        guard let (node, text) = try scalar(key, "an integer") else {
            if let def { return def }
            throw error(key, "is required")
        }
        guard let i = node.int else { throw error(key, "expected an integer, got \"\(text.prefix(40))\"") }
        if let range, !range.contains(i) { throw error(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(i)") }
        return i
    }

    /// A number in `range`.
    public func double(_ key: String, default def: Double? = nil, range: ClosedRange<Double>? = nil) throws(ConfigError) -> Double {
        guard let (node, text) = try scalar(key, "a number") else {
            if let def { return def }
            throw error(key, "is required")
        }
        guard let d = node.float ?? node.int.map(Double.init) else { throw error(key, "expected a number, got \"\(text.prefix(40))\"") }
        if let range, !range.contains(d) { throw error(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(d)") }
        return d
    }

    /// A boolean.
    public func bool(_ key: String, default def: Bool? = nil) throws(ConfigError) -> Bool {
        guard let (node, text) = try scalar(key, "true or false") else {
            if let def { return def }
            throw error(key, "is required")
        }
        guard let b = node.bool else { throw error(key, "expected true or false, got \"\(text.prefix(40))\"") }
        return b
    }

    /// A list of strings (empty when absent).
    public func stringList(_ key: String) throws(ConfigError) -> [String] {
        guard let (v, _) = entry(key) else { return [] }
        guard case .sequence(let seq) = v else { throw error(key, "expected a list, got \(describe(v))") }
        var out: [String] = []
        for (i, item) in seq.enumerated() {
            guard case .scalar(let s) = item else { throw error(key, "item \(i) must be a string") }
            out.append(s.string)
        }
        return out
    }

    /// A nested mapping, or `nil` when absent.
    public func section(_ key: String) throws(ConfigError) -> ConfigNode? {
        guard let (v, line) = entry(key) else { return nil }
        guard case .mapping(let m) = v else { throw error(key, "expected a mapping, got \(describe(v))") }
        return try ConfigNode(file: file, path: Self.join(path, key), mapping: m, line: line)
    }

    /// A list of mappings (empty when absent).
    public func sectionList(_ key: String) throws(ConfigError) -> [ConfigNode] {
        guard let (v, line) = entry(key) else { return [] }
        guard case .sequence(let seq) = v else { throw error(key, "expected a list, got \(describe(v))") }
        var out: [ConfigNode] = []
        for (i, item) in seq.enumerated() {
            guard case .mapping(let m) = item else { throw error(key, "item \(i) must be a mapping") }
            out.append(try ConfigNode(file: file, path: "\(Self.join(path, key))[\(i)]", mapping: m, line: item.mark?.line ?? line))
        }
        return out
    }

    /// A secret reference. Literal values are refused: secrets live in the environment or in mounted files.
    ///
    /// With `mustExist` (the default) the reference is resolved once now, so a missing variable or file fails
    /// the load with the key path; the value itself is read again at each use, for rotation.
    public func secret(_ key: String, required: Bool = true, mustExist: Bool = true) throws(ConfigError) -> SecretReference? {
        guard let (_, text) = try scalar(key, "a secret reference (env:NAME or file:/path)") else {
            if required { throw error(key, "is required (a secret reference: env:NAME or file:/path)") }
            return nil
        }
        guard let ref = SecretReference(parsing: text) else {
            throw error(key, "inline secrets are refused; write env:NAME or file:/path and put the value there")
        }
        if mustExist {
            do { _ = try ref.resolve() } catch { throw self.error(key, "\(error.reason) (credential missing)") }
        }
        return ref
    }

    /// The subtree at `key` as JSON (for schemas and free-form data), or `nil` when absent.
    public func json(_ key: String) throws(ConfigError) -> JSONValue? {
        guard let (v, _) = entry(key) else { return nil }
        return try toJSON(v, path: Self.join(path, key))
    }

    /// The whole mapping as canonical JSON text (keys sorted): two sections with the same settings compare equal
    /// whatever their key order, quoting style or place in the file. Used to tell an unchanged backend on reload.
    public func canonicalText() throws(ConfigError) -> String {
        var o: [String: JSONValue] = [:]
        for e in entries { o[e.key] = try toJSON(e.value, path: Self.join(path, e.key)) }
        return JSONValue.object(o).jsonText
    }

    private func toJSON(_ n: Node, path: String) throws(ConfigError) -> JSONValue {
        switch n {
        case .scalar(let s):
            if s.style != .plain { return .string(s.string) }
            if n.null != nil { return .null }
            if let b = n.bool { return .bool(b) }
            if let i = n.int { return .int(Int64(i)) }
            if let d = n.float { return .double(d) }
            return .string(s.string)
        case .sequence(let seq):
            var out: [JSONValue] = []
            for (i, item) in seq.enumerated() { out.append(try toJSON(item, path: "\(path)[\(i)]")) }
            return .array(out)
        case .mapping(let m):
            var o: [String: JSONValue] = [:]
            for (k, v) in m {
                guard let key = k.string else { throw ConfigError(file: file, path: path, reason: "keys must be strings") }
                o[key] = try toJSON(v, path: Self.join(path, key))
            }
            return .object(o)
        case .alias:
            throw ConfigError(file: file, path: path, reason: "YAML aliases are not supported")
        }
    }

    /// A file path setting; a relative path is relative to this configuration file, so a config directory is
    /// self-contained wherever the broker is started from.
    public func optionalPath(_ key: String) throws(ConfigError) -> String? {
        guard let given = try optionalString(key) else { return nil }
        if given.hasPrefix("/") { return given }
        let absolute = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
        return URL(fileURLWithPath: absolute).deletingLastPathComponent().appendingPathComponent(given).standardized.path
    }

    /// Marks a key as handled without reading it (a caller that consumes it by other means).
    public func markRead(_ key: String) { read.insert(key) }

    /// Refuses unknown keys: call after reading every key this section supports.
    public func finish() throws(ConfigError) {
        for e in entries where !read.contains(e.key) {
            let known = read.sorted().joined(separator: ", ")
            throw ConfigError(file: file, path: Self.join(path, e.key), reason: "unknown key (known keys here: \(known))", line: e.line)
        }
    }
}
