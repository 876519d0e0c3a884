// SPDX-License-Identifier: Apache-2.0

/// A concrete resource (`resources/list`).
public struct Resource: Sendable {
    public var uri: String
    public var name: String
    public var title: String?
    public var description: String?
    public var mimeType: String?

    public init(uri: String, name: String, title: String? = nil, description: String? = nil, mimeType: String? = "application/json") {
        self.uri = uri
        self.name = name
        self.title = title
        self.description = description
        self.mimeType = mimeType
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["uri": .string(uri), "name": .string(name)]
        if let title { o["title"] = .string(title) }
        if let description { o["description"] = .string(description) }
        if let mimeType { o["mimeType"] = .string(mimeType) }
        return .object(o)
    }
}

/// A parameterised resource (`resources/templates/list`), RFC 6570 level 1 (`{var}` only).
public struct ResourceTemplate: Sendable {
    public var uriTemplate: String
    public var name: String
    public var title: String?
    public var description: String?
    public var mimeType: String?

    public init(uriTemplate: String, name: String, title: String? = nil, description: String? = nil, mimeType: String? = "application/json") {
        self.uriTemplate = uriTemplate
        self.name = name
        self.title = title
        self.description = description
        self.mimeType = mimeType
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["uriTemplate": .string(uriTemplate), "name": .string(name)]
        if let title { o["title"] = .string(title) }
        if let description { o["description"] = .string(description) }
        if let mimeType { o["mimeType"] = .string(mimeType) }
        return .object(o)
    }

    /// Matches a concrete URI against this template and returns the variable bindings.
    ///
    /// Variables match one path segment (no `/`, `?` or `#`) and are percent-decoded.
    public func match(_ uri: String) -> [String: String]? {
        var bindings: [String: String] = [:]
        var t = uriTemplate[...]
        var u = uri[...]
        while !t.isEmpty {
            if t.first == "{" {
                guard let close = t.firstIndex(of: "}") else { return nil }
                let name = String(t[t.index(after: t.startIndex)..<close])
                t = t[t.index(after: close)...]
                let stop = t.first
                var end = u.startIndex
                while end < u.endIndex, u[end] != "/", u[end] != "?", u[end] != "#", u[end] != stop { end = u.index(after: end) }
                let raw = u[u.startIndex..<end]
                guard !raw.isEmpty, let decoded = String(raw).removingPercentEncodingSafe() else { return nil }
                bindings[name] = decoded
                u = u[end...]
            } else {
                guard let tc = t.first, let uc = u.first, tc == uc else { return nil }
                t = t.dropFirst()
                u = u.dropFirst()
            }
        }
        return u.isEmpty ? bindings : nil
    }
}

extension String {
    /// Percent-decoding without Foundation; `nil` for malformed escapes or invalid UTF-8.
    func removingPercentEncodingSafe() -> String? {
        var bytes: [UInt8] = []
        var it = Array(utf8)[...]
        while let c = it.first {
            it = it.dropFirst()
            if c == UInt8(ascii: "%") {
                guard it.count >= 2, let h = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                bytes.append(h)
                it = it.dropFirst(2)
            } else {
                bytes.append(c)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
