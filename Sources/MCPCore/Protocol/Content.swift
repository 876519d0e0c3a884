// SPDX-License-Identifier: Apache-2.0

/// A content block in tool results and prompt messages.
public enum ContentBlock: Sendable {
    case text(String)
    /// A link to a resource the client may read.
    case resourceLink(uri: String, name: String, description: String?, mimeType: String?)
    /// An embedded text resource.
    case resource(ResourceContents)

    public var json: JSONValue {
        switch self {
        case .text(let t):
            return ["type": "text", "text": .string(t)]
        case .resourceLink(let uri, let name, let description, let mimeType):
            var o: [String: JSONValue] = ["type": "resource_link", "uri": .string(uri), "name": .string(name)]
            if let description { o["description"] = .string(description) }
            if let mimeType { o["mimeType"] = .string(mimeType) }
            return .object(o)
        case .resource(let contents):
            return ["type": "resource", "resource": contents.json]
        }
    }
}

/// The contents of one resource (`resources/read`).
public struct ResourceContents: Sendable {
    public var uri: String
    public var mimeType: String?
    public var text: String

    public init(uri: String, mimeType: String? = "application/json", text: String) {
        self.uri = uri
        self.mimeType = mimeType
        self.text = text
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["uri": .string(uri), "text": .string(text)]
        if let mimeType { o["mimeType"] = .string(mimeType) }
        return .object(o)
    }
}
