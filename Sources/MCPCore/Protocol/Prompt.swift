// SPDX-License-Identifier: Apache-2.0

/// A prompt argument declaration.
public struct PromptArgument: Sendable {
    public var name: String
    public var description: String?
    public var required: Bool

    public init(name: String, description: String? = nil, required: Bool = false) {
        self.name = name
        self.description = description
        self.required = required
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["name": .string(name), "required": .bool(required)]
        if let description { o["description"] = .string(description) }
        return .object(o)
    }
}

/// A prompt template (`prompts/list`).
public struct Prompt: Sendable {
    public var name: String
    public var title: String?
    public var description: String?
    public var arguments: [PromptArgument]

    public init(name: String, title: String? = nil, description: String? = nil, arguments: [PromptArgument] = []) {
        self.name = name
        self.title = title
        self.description = description
        self.arguments = arguments
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["name": .string(name), "arguments": .array(arguments.map(\.json))]
        if let title { o["title"] = .string(title) }
        if let description { o["description"] = .string(description) }
        return .object(o)
    }
}

/// One message of a rendered prompt.
public struct PromptMessage: Sendable {
    public enum Role: String, Sendable { case user, assistant }
    public var role: Role
    public var content: ContentBlock

    public init(role: Role, content: ContentBlock) {
        self.role = role
        self.content = content
    }

    public var json: JSONValue { ["role": .string(role.rawValue), "content": content.json] }
}

/// The result of `prompts/get`.
public struct GetPromptResult: Sendable {
    public var description: String?
    public var messages: [PromptMessage]

    public init(description: String? = nil, messages: [PromptMessage]) {
        self.description = description
        self.messages = messages
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["messages": .array(messages.map(\.json))]
        if let description { o["description"] = .string(description) }
        return .object(o)
    }
}

/// RFC 5424 log levels used by `logging/setLevel` and `notifications/message`.
public enum LogLevel: String, Sendable, CaseIterable, Comparable {
    case debug, info, notice, warning, error, critical, alert, emergency

    var rank: Int { LogLevel.allCases.firstIndex(of: self) ?? 0 }
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
}
