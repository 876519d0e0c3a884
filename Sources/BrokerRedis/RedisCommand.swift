// SPDX-License-Identifier: Apache-2.0

import CHiredis

/// One command in RESP wire form, encoded by hiredis from its arguments (binary-safe).
struct RedisCommand: Sendable {
    /// The bytes to send.
    let bytes: [UInt8]
    /// The command's name, for errors (never its arguments, which may hold a password or a value).
    let name: String

    /// Encodes `arguments` (the first is the command name); `nil` only if hiredis cannot allocate.
    init?(_ arguments: [String]) {
        self.init(bytes: arguments.map { Array($0.utf8) })
    }

    /// Encodes binary `arguments`.
    init?(bytes arguments: [[UInt8]]) {
        guard let first = arguments.first, arguments.count <= 1024 else { return nil }
        name = String(decoding: first, as: UTF8.self).uppercased()
        // All arguments in one buffer (plus a byte, so it is never empty and always has an address), which stays
        // pinned while hiredis copies from it.
        var joined: [UInt8] = []
        joined.reserveCapacity(arguments.reduce(1) { $0 + $1.count })
        var offsets: [Int] = []
        for argument in arguments {
            offsets.append(joined.count)
            joined.append(contentsOf: argument)
        }
        joined.append(0)
        var lengths = arguments.map(\.count)
        let encoded: [UInt8]? = joined.withUnsafeBufferPointer { buffer -> [UInt8]? in
            guard let base = buffer.baseAddress else { return nil }
            let raw = UnsafeRawPointer(base)
            var argv: [UnsafePointer<CChar>?] = offsets.map { (raw + $0).assumingMemoryBound(to: CChar.self) }
            var target: UnsafeMutablePointer<CChar>?
            let length = argv.withUnsafeMutableBufferPointer { argvBuffer in
                lengths.withUnsafeMutableBufferPointer { lengthBuffer in
                    redisFormatCommandArgv(&target, Int32(clamping: arguments.count), argvBuffer.baseAddress, lengthBuffer.baseAddress)
                }
            }
            guard length > 0, let target else { return nil }
            defer { redisFreeCommand(target) }
            return Array(UnsafeRawBufferPointer(start: target, count: Int(length)))
        }
        guard let encoded else { return nil }
        bytes = encoded
    }
}
