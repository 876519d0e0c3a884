// SPDX-License-Identifier: Apache-2.0

import CHiredis

/// hiredis's RESP parser with the limits a hostile service cannot push past.
///
/// hiredis 0.14 has no cap on a reply's size (its `maxbuf` only decides when an idle buffer is freed), so the
/// reader refuses a reply that holds more than ``maxReplyBytes`` unparsed bytes, and an array announcing more than
/// ``maxArrayElements`` elements (hiredis would allocate the pointer array up front). Nesting is capped by hiredis
/// itself (depth 7 in 0.14).
///
/// Threading: used by one connection thread only; not `Sendable`.
final class RedisReader {
    /// The largest reply accepted (1 MiB): far beyond any value the broker stores.
    static let maxReplyBytes = 1 << 20
    /// The largest array accepted; the broker's replies have at most 3 elements.
    static let maxArrayElements: Int32 = 1024

    private let reader: UnsafeMutablePointer<redisReader>?
    /// The functions `reader` calls, with the size check in front of `createArray`; freed with the reader.
    private let functions: UnsafeMutablePointer<redisReplyObjectFunctions>

    init() {
        reader = redisReaderCreate()
        functions = .allocate(capacity: 1)
        if let reader, let defaults = chiredis_reader_functions(reader) {
            functions.initialize(to: defaults.pointee)
            functions.pointee.createArray = cappedCreateArray
            chiredis_reader_set_functions(reader, functions)
        } else {
            functions.initialize(to: redisReplyObjectFunctions())
        }
    }

    deinit {
        if let reader { redisReaderFree(reader) }
        functions.deallocate()
    }

    /// What went wrong with the stream; the connection must be dropped.
    struct Failure: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    /// Feeds received bytes and returns every reply they complete, in order.
    func feed(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> [RedisReply] {
        guard let reader else { throw Failure(reason: "the RESP parser could not be created") }
        if !bytes.isEmpty, let base = bytes.baseAddress {
            guard redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count) == REDIS_OK else {
                throw Failure(reason: "malformed reply: \(String(cString: chiredis_reader_error(reader)))")
            }
        }
        var replies: [RedisReply] = []
        while true {
            var raw: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
                let detail = String(cString: chiredis_reader_error(reader))
                // Out of memory is what hiredis reports when the createArray check refuses.
                let reason = reader.pointee.err == REDIS_ERR_OOM ? "reply refused: too many elements" : "malformed reply: \(detail)"
                throw Failure(reason: reason)
            }
            guard let raw else { break }
            defer { freeReplyObject(raw) }
            replies.append(Self.convert(raw.assumingMemoryBound(to: redisReply.self)))
        }
        if chiredis_reader_buffered(reader) > Self.maxReplyBytes {
            throw Failure(reason: "reply larger than \(Self.maxReplyBytes) bytes")
        }
        return replies
    }

    /// Copies a hiredis reply tree into ``RedisReply`` (depth is bounded by hiredis, so recursion is too).
    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        func bytes() -> [UInt8] {
            guard let str = r.str, r.len > 0 else { return [] }
            return Array(UnsafeRawBufferPointer(start: str, count: r.len))
        }
        switch r.type {
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(Int64(r.integer))
        case REDIS_REPLY_STRING: return .bulk(bytes())
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_ARRAY:
            guard let elements = r.element else { return .array([]) }
            return .array((0..<r.elements).compactMap { i in elements[i].map(convert) })
        default: return .null
        }
    }
}

/// hiredis's own `createArray`, taken once from a reader it creates (the default functions are private to the library).
private let defaultCreateArray: (@convention(c) (UnsafePointer<redisReadTask>?, Int32) -> UnsafeMutableRawPointer?)? = {
    guard let probe = redisReaderCreate() else { return nil }
    defer { redisReaderFree(probe) }
    return chiredis_reader_functions(probe)?.pointee.createArray
}()

/// Refuses arrays beyond the cap before hiredis allocates them (a `nil` return makes hiredis stop with an error).
private let cappedCreateArray: @convention(c) (UnsafePointer<redisReadTask>?, Int32) -> UnsafeMutableRawPointer? = { task, elements in
    guard elements >= 0, elements <= RedisReader.maxArrayElements, let original = defaultCreateArray else { return nil }
    return original(task, elements)
}
