// SPDX-License-Identifier: Apache-2.0

/// One RESP2 reply, copied out of hiredis's reply object so nothing C-owned outlives the parse.
enum RedisReply: Sendable, Equatable {
    /// `+OK`, `+PONG`.
    case status(String)
    /// `-ERR …`: the service refused the command (the connection stays usable).
    case error(String)
    /// `:42`.
    case integer(Int64)
    /// `$n` with its bytes.
    case bulk([UInt8])
    /// `$-1` or `*-1`.
    case null
    /// `*n`.
    case array([RedisReply])

    /// The bulk or status text as UTF-8 (invalid bytes repaired), `nil` for other kinds.
    var text: String? {
        switch self {
        case .bulk(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .status(let s): return s
        default: return nil
        }
    }

    /// A short description for errors and logs: the kind, never the payload (values may be anything a caller stored).
    var kind: String {
        switch self {
        case .status: return "status"
        case .error: return "error"
        case .integer: return "integer"
        case .bulk: return "bulk string"
        case .null: return "nil"
        case .array: return "array"
        }
    }
}
