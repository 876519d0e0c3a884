// SPDX-License-Identifier: Apache-2.0

/// One JSON value already in wire form: checked against RFC 8259 (grammar, UTF-8, bounded nesting) and compacted.
///
/// It exists so a backend document the broker does not reshape can travel to the client without being parsed
/// into a ``JSONValue`` tree and written again: for a 100 KB REST response that tree costs thousands of
/// allocations and hash insertions, while checking and compacting is one pass and a few bulk copies.
/// Compacting matters too: stdio frames messages by newline and SSE by line, so a pretty-printed document
/// must lose its insignificant whitespace before it can be embedded.
///
/// Unlike ``JSONParser`` it does not refuse duplicate object keys: the broker takes no decision on the
/// document's content, it only relays it.
public struct EncodedJSON: Sendable, Equatable {
    /// The shape of the top-level value.
    public enum Kind: Sendable, Equatable {
        case object, array, scalar
    }

    /// Compact UTF-8 text of the value.
    public let bytes: [UInt8]
    /// The top-level value's shape (MCP requires `structuredContent` to be an object).
    public let kind: Kind

    init(bytes: [UInt8], kind: Kind) {
        self.bytes = bytes
        self.kind = kind
    }

    /// Checks `input` as exactly one JSON value (surrounding whitespace allowed) and returns its compact form.
    /// - Throws: ``JSONParseError`` naming the byte offset, for anything that is not strict JSON in UTF-8.
    public static func validating(_ input: [UInt8], maxDepth: Int = 64) throws(JSONParseError) -> EncodedJSON {
        var kind = Kind.scalar
        var compacted = false
        var failure: JSONParseError?
        // The compact text can only be shorter, so one uninitialized buffer of the input's size holds it; runs are
        // copied into it in bulk rather than appended (a pretty-printed document has a run per line).
        let output = input.withUnsafeBufferPointer { buffer in
            [UInt8](unsafeUninitializedCapacity: buffer.count) { out, written in
                guard var scanner = Compactor(input: buffer, output: out, maxDepth: maxDepth) else {
                    failure = JSONParseError(offset: 0, reason: "empty document")
                    return
                }
                do throws(JSONParseError) {
                    kind = try scanner.document()
                } catch {
                    failure = error
                }
                compacted = scanner.compacted
                written = failure == nil && compacted ? scanner.written : 0
            }
        }
        if let failure { throw failure }
        // Already compact (the usual machine-written response): share the input, copy nothing.
        return EncodedJSON(bytes: compacted ? output : input, kind: kind)
    }

    /// ``validating(_:maxDepth:)`` for a tool's `structuredContent`, which must be an object: an object comes back
    /// as it is, anything else as `{"<key>":<value>}`. The same bytes as `validating(input).wrapped(in: key)`, but
    /// a value that needs wrapping is compacted straight behind the key instead of being copied a second time.
    public static func validatingObject(_ input: [UInt8], wrappingOthersIn key: String, maxDepth: Int = 64) throws(JSONParseError) -> EncodedJSON {
        // Leading whitespace is rare and short; the first token decides whether there is anything to wrap.
        var first = 0
        while first < input.count, input[first] == 0x20 || input[first] == 0x0A || input[first] == 0x0D || input[first] == 0x09 {
            first += 1
        }
        guard first < input.count, input[first] != UInt8(ascii: "{") else { return try validating(input, maxDepth: maxDepth) }
        var prefix: [UInt8] = [UInt8(ascii: "{")]
        JSONWriter.writeString(key, into: &prefix)
        prefix.append(UInt8(ascii: ":"))
        var failure: JSONParseError?
        let output = input.withUnsafeBufferPointer { buffer in
            [UInt8](unsafeUninitializedCapacity: prefix.count + buffer.count + 1) { out, written in
                _ = out.initialize(fromContentsOf: prefix)
                guard var scanner = Compactor(input: buffer, output: out, written: prefix.count, maxDepth: maxDepth) else {
                    failure = JSONParseError(offset: 0, reason: "empty document")
                    return
                }
                do throws(JSONParseError) {
                    _ = try scanner.document()
                } catch {
                    failure = error
                }
                guard failure == nil else { return }
                scanner.flushAll()
                // The scanner leaves at least one byte: it wrote at most `buffer.count` after the prefix.
                out[scanner.written] = UInt8(ascii: "}")
                written = scanner.written + 1
            }
        }
        if let failure { throw failure }
        return EncodedJSON(bytes: output, kind: .object)
    }

    /// `{"<key>":<this value>}`: wraps an array or scalar so it can be a tool's `structuredContent`.
    public func wrapped(in key: String) -> EncodedJSON {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + key.utf8.count + 8)
        out.append(UInt8(ascii: "{"))
        JSONWriter.write(.string(key), into: &out)
        out.append(UInt8(ascii: ":"))
        out.append(contentsOf: bytes)
        out.append(UInt8(ascii: "}"))
        return EncodedJSON(bytes: out, kind: .object)
    }

    /// At most `limit` bytes of the text, cut on a character boundary, with "…" when something was cut:
    /// a readable preview for the model next to the full structured value.
    public func preview(limit: Int) -> String { Self.preview(of: bytes, limit: limit) }

    /// ``preview(limit:)`` for any UTF-8 JSON text.
    public static func preview(of bytes: [UInt8], limit: Int) -> String {
        guard bytes.count > limit else { return String(decoding: bytes, as: UTF8.self) }
        var end = max(0, limit)
        // Back off continuation bytes (10xxxxxx) so no code point is split.
        while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return String(decoding: bytes[..<end], as: UTF8.self) + "…"
    }

    /// The value as a tree, for callers off the hot path (tests, the CLI); `nil` when a key repeats, which the
    /// stricter tree parser refuses.
    public func decoded(maxDepth: Int = 512) -> JSONValue? {
        try? JSONParser.parse(bytes, limits: .init(maxDepth: maxDepth, rejectNUL: false))
    }
}
