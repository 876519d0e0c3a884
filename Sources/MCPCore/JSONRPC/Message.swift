// SPDX-License-Identifier: Apache-2.0

/// A client request: has an id and expects exactly one response.
public struct RPCRequest: Sendable {
    public var id: RequestID
    public var method: String
    /// `params` as sent; `nil` when absent.
    public var params: [String: JSONValue]?

    public init(id: RequestID, method: String, params: [String: JSONValue]? = nil) {
        self.id = id
        self.method = method
        self.params = params
    }

    /// `params._meta.progressToken`, when the client asked for progress.
    public var progressToken: JSONValue? {
        guard let token = params?["_meta"]?["progressToken"] else { return nil }
        switch token {
        case .string, .int: return token
        default: return nil
        }
    }
}

/// A notification: no id, never answered.
public struct RPCNotification: Sendable {
    public var method: String
    public var params: [String: JSONValue]?

    public init(method: String, params: [String: JSONValue]? = nil) {
        self.method = method
        self.params = params
    }

    /// The wire form.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["jsonrpc": "2.0", "method": .string(method)]
        if let params { o["params"] = .object(params) }
        return .object(o)
    }
}

/// A client's answer to a request the server sent.
public struct RPCResponse: Sendable {
    public var id: RequestID?
    public var result: JSONValue?
    public var error: JSONValue?

    public init(id: RequestID?, result: JSONValue?, error: JSONValue?) {
        self.id = id
        self.result = result
        self.error = error
    }
}

/// One inbound JSON-RPC message.
public enum RPCMessage: Sendable {
    case request(RPCRequest)
    case notification(RPCNotification)
    /// A response to a server-initiated request (`elicitation/create`): exactly one of `result` and `error`.
    case response(RPCResponse)

    /// Parses and classifies one message.
    ///
    /// - Throws: ``RPCError`` -32700 for bytes that are not JSON, -32600 for JSON that is not one valid
    ///   JSON-RPC 2.0 message (including batches, which MCP removed in 2025-06-18).
    public static func parse(_ bytes: some Collection<UInt8>) throws(RPCError) -> RPCMessage {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            // Valid JSON whose only fault is a NUL (`\u0000`) in a string: refused (a NUL cuts C strings short further
            // down), but as bad params of a request the client can match by its id, not as an id-less parse error
            // that leaves its call waiting until it times out.
            if (try? JSONParser.parse(bytes, limits: .init(rejectNUL: false))) != nil {
                throw RPCError.invalidParams("String values must not contain NUL (\\u0000) characters; remove them and send the request again.")
            }
            throw RPCError.parseError(error.description)
        }
        return try classify(value)
    }

    /// Classifies a parsed JSON value.
    public static func classify(_ value: JSONValue) throws(RPCError) -> RPCMessage {
        guard case .object(let o) = value else {
            if case .array = value { throw RPCError.invalidRequest("JSON-RPC batches are not supported") }
            throw RPCError.invalidRequest("a message must be a JSON object")
        }
        guard o["jsonrpc"] == .string("2.0") else { throw RPCError.invalidRequest("\"jsonrpc\" must be \"2.0\"") }
        let params: [String: JSONValue]?
        switch o["params"] {
        case nil: params = nil
        case .object(let p)?: params = p
        default: throw RPCError.invalidRequest("\"params\" must be an object")
        }
        if let method = o["method"] {
            guard case .string(let name) = method, !name.isEmpty else {
                throw RPCError.invalidRequest("\"method\" must be a non-empty string")
            }
            guard let rawID = o["id"] else { return .notification(RPCNotification(method: name, params: params)) }
            guard let id = RequestID(json: rawID) else {
                throw RPCError.invalidRequest("\"id\" must be a string or an integer")
            }
            return .request(RPCRequest(id: id, method: name, params: params))
        }
        if o["result"] != nil || o["error"] != nil {
            return .response(RPCResponse(id: o["id"].flatMap { RequestID(json: $0) }, result: o["result"], error: o["error"]))
        }
        throw RPCError.invalidRequest("missing \"method\"")
    }

    /// Best-effort id of a message that failed validation, so an error reply can echo it.
    public static func salvageID(_ bytes: some Collection<UInt8>) -> RequestID? {
        guard let v = try? JSONParser.parse(bytes, limits: .init(rejectNUL: false)), let id = v["id"] else { return nil }
        return RequestID(json: id)
    }
}

/// Encoders for outbound messages.
public enum RPCEncoding {
    /// `{"jsonrpc":"2.0","id":…,"result":…}`
    public static func result(id: RequestID, _ result: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        JSONWriter.write(id.json, into: &out)
        out.append(contentsOf: #","result":"#.utf8)
        JSONWriter.write(result, into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// `{"jsonrpc":"2.0","id":…|null,"error":{…}}`
    public static func error(id: RequestID?, _ error: RPCError) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        JSONWriter.write(id?.json ?? .null, into: &out)
        out.append(contentsOf: #","error":"#.utf8)
        JSONWriter.write(error.json, into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A notification.
    public static func notification(_ n: RPCNotification) -> [UInt8] { JSONWriter.encode(n.json) }

    /// A success response around a result that is already encoded (cached list pages): the envelope is written
    /// around the bytes, in the same key order as ``result(id:_:)``.
    public static func result(id: RequestID, encoded result: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(result.count + 48)
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        JSONWriter.write(id.json, into: &out)
        out.append(contentsOf: #","result":"#.utf8)
        out.append(contentsOf: result)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A success response whose result `write` appends, so a large result lands in the message's own buffer
    /// (`capacity` sizes it up front) instead of being copied in.
    public static func result(id: RequestID, capacity: Int, write: (inout [UInt8]) -> Void) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(capacity + 48)
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        JSONWriter.write(id.json, into: &out)
        out.append(contentsOf: #","result":"#.utf8)
        write(&out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A server-to-client request.
    public static func request(_ r: RPCRequest) -> [UInt8] {
        var o: [String: JSONValue] = ["jsonrpc": "2.0", "id": r.id.json, "method": .string(r.method)]
        if let p = r.params { o["params"] = .object(p) }
        return JSONWriter.encode(.object(o))
    }
}
