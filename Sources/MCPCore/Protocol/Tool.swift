// SPDX-License-Identifier: Apache-2.0

/// Behaviour hints shown to clients (untrusted by them, but they drive confirmation UIs).
public struct ToolAnnotations: Sendable, Hashable {
    public var title: String?
    public var readOnlyHint: Bool
    public var destructiveHint: Bool
    public var idempotentHint: Bool
    public var openWorldHint: Bool

    public init(title: String? = nil, readOnly: Bool, destructive: Bool = false, idempotent: Bool = false, openWorld: Bool = false) {
        self.title = title
        self.readOnlyHint = readOnly
        self.destructiveHint = destructive
        self.idempotentHint = idempotent
        self.openWorldHint = openWorld
    }

    /// A read-only query tool.
    public static let readOnly = ToolAnnotations(readOnly: true, idempotent: true)

    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "readOnlyHint": .bool(readOnlyHint), "destructiveHint": .bool(destructiveHint),
            "idempotentHint": .bool(idempotentHint), "openWorldHint": .bool(openWorldHint),
        ]
        if let title { o["title"] = .string(title) }
        return .object(o)
    }
}

/// A tool as listed by `tools/list`.
public struct Tool: Sendable {
    public var name: String
    public var title: String?
    public var description: String
    public var inputSchema: JSONValue
    public var outputSchema: JSONValue?
    public var annotations: ToolAnnotations?

    public init(
        name: String, title: String? = nil, description: String, inputSchema: JSONValue,
        outputSchema: JSONValue? = nil, annotations: ToolAnnotations? = nil
    ) {
        self.name = name
        self.title = title
        self.description = description
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.annotations = annotations
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["name": .string(name), "description": .string(description), "inputSchema": inputSchema]
        if let title { o["title"] = .string(title) }
        if let outputSchema { o["outputSchema"] = outputSchema }
        if let annotations { o["annotations"] = annotations.json }
        return .object(o)
    }
}

/// The result of `tools/call`.
public struct CallToolResult: Sendable {
    public var content: [ContentBlock]
    public var structuredContent: JSONValue?
    public var isError: Bool

    public init(content: [ContentBlock], structuredContent: JSONValue? = nil, isError: Bool = false) {
        self.content = content
        self.structuredContent = structuredContent
        self.isError = isError
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["content": .array(content.map(\.json))]
        if let structuredContent { o["structuredContent"] = structuredContent }
        if isError { o["isError"] = true }
        return .object(o)
    }

    /// Writes a successful result whose `structuredContent` is already encoded: the same value ``json`` would
    /// give, with the structured bytes copied once instead of parsed and re-encoded (their key order is kept).
    public static func encode(content: [ContentBlock], structuredContent: EncodedJSON, into out: inout [UInt8]) {
        out.append(contentsOf: #"{"content":["#.utf8)
        for (position, block) in content.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            if case .text(let text) = block {
                // `{"text":…,"type":"text"}` (the writer's key order) without building a dictionary for it.
                out.append(contentsOf: #"{"text":"#.utf8)
                JSONWriter.writeString(text, into: &out)
                out.append(contentsOf: #","type":"text"}"#.utf8)
            } else {
                JSONWriter.write(block.json, into: &out)
            }
        }
        out.append(contentsOf: #"],"structuredContent":"#.utf8)
        out.append(contentsOf: structuredContent.bytes)
        out.append(UInt8(ascii: "}"))
    }

    /// Bytes ``encode(content:structuredContent:into:)`` will write, give or take escapes: the capacity to
    /// reserve so the message buffer is allocated once (the text preview comes before the large document).
    public static func encodedSizeEstimate(content: [ContentBlock], structuredContent: EncodedJSON) -> Int {
        var size = structuredContent.bytes.count + 64
        for block in content {
            if case .text(let text) = block {
                let bytes = text.utf8.count
                size += bytes + bytes / 16 + 32  // a little room for escapes
            } else {
                size += 256
            }
        }
        return size
    }
}
