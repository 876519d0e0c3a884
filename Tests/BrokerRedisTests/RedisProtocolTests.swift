// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import XCTest

@testable import BrokerRedis

/// The pure parts: RESP encoding and parsing limits, GCRA arguments, TTL conversion.
final class RedisProtocolTests: XCTestCase {
    func testCommandEncodingIsBinarySafeRESP() throws {
        let command = try XCTUnwrap(RedisCommand(["SET", "k", "a\r\nb", ""]))
        XCTAssertEqual(String(decoding: command.bytes, as: UTF8.self), "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n$0\r\n\r\n")
        XCTAssertEqual(command.name, "SET")
        XCTAssertNil(RedisCommand([String]()))
    }

    func testReaderParsesSplitRepliesInOrder() throws {
        let reader = RedisReader()
        let first = try feed(reader, "+OK\r\n:42\r\n$3\r\nab")
        XCTAssertEqual(first, [.status("OK"), .integer(42)])
        let second = try feed(reader, "c\r\n$-1\r\n*2\r\n$7\r\nmessage\r\n-ERR no\r\n")
        XCTAssertEqual(second, [.bulk(Array("abc".utf8)), .null, .array([.bulk(Array("message".utf8)), .error("ERR no")])])
    }

    func testReaderRefusesOversizedAndMalformedInput() {
        XCTAssertThrowsError(try feed(RedisReader(), "$2000000000\r\n" + String(repeating: "x", count: RedisReader.maxReplyBytes + 10))) {
            XCTAssertTrue("\($0)".contains("larger than"), "\($0)")
        }
        XCTAssertThrowsError(try feed(RedisReader(), "*2000000000\r\n")) { XCTAssertTrue("\($0)".contains("too many elements"), "\($0)") }
        XCTAssertThrowsError(try feed(RedisReader(), "*-5\r\n"))
        XCTAssertThrowsError(try feed(RedisReader(), "?what\r\n")) { XCTAssertTrue("\($0)".contains("malformed"), "\($0)") }
        XCTAssertThrowsError(try feed(RedisReader(), String(repeating: "*1\r\n", count: 40) + ":1\r\n"))
        // A long status line without its end is capped too.
        XCTAssertThrowsError(try feed(RedisReader(), "+" + String(repeating: "y", count: RedisReader.maxReplyBytes + 10)))
        // Just under the cap is fine.
        let big = String(repeating: "z", count: 1000)
        XCTAssertEqual(try feed(RedisReader(), "$1000\r\n\(big)\r\n"), [.bulk(Array(big.utf8))])
    }

    func testGCRAArgumentsAreExactAndClampedWithoutTrapping() {
        let tenPerSecond = GCRAScript.arguments(for: RateLimit(ratePerSecond: 10, burst: 20))
        XCTAssertEqual(tenPerSecond.interval, "100000")
        XCTAssertEqual(tenPerSecond.tolerance, "1900000")
        let huge = GCRAScript.arguments(for: RateLimit(ratePerSecond: 1e300, burst: Int.max))
        XCTAssertEqual(huge.interval, "1")
        XCTAssertEqual(huge.tolerance, "1000000000000000")
        let tiny = GCRAScript.arguments(for: RateLimit(ratePerSecond: 1e-300, burst: Int.max))
        XCTAssertEqual(tiny.interval, "1000000000000000")
        XCTAssertEqual(tiny.tolerance, "1000000000000000")
        for rate in [Double.nan, .infinity, -.infinity, 0, -5] {
            let args = GCRAScript.arguments(for: RateLimit(ratePerSecond: rate, burst: 1))
            XCTAssertNotNil(Int64(args.interval), "\(rate)")
            XCTAssertEqual(args.tolerance, "0")
        }
        XCTAssertEqual(try GCRAScript.decision(.integer(-1), count: 2).get(), nil)
        XCTAssertEqual(try GCRAScript.decision(.array([.integer(2), .integer(250_000)]), count: 2).get(), SharedRefusal(bucket: 1, retryAfter: .milliseconds(250)))
        // A hostile service: wrong shapes, an index out of range, a non-positive wait.
        for reply: RedisReply in [.status("OK"), .integer(0), .integer(7), .array([.integer(3), .integer(5)]), .array([.integer(0), .integer(5)]),
            .array([.integer(1), .integer(0)]), .array([.integer(1)]), .array([.integer(1), .bulk(Array("5".utf8))])] {
            XCTAssertThrowsError(try GCRAScript.decision(reply, count: 2).get(), "\(reply)")
        }
        XCTAssertEqual(GCRAScript.sha1.count, 40)
    }

    func testTTLMillisecondsRoundUpAndClamp() {
        XCTAssertEqual(RedisStore.milliseconds(.seconds(2)), "2000")
        XCTAssertEqual(RedisStore.milliseconds(.microseconds(1500)), "2")
        XCTAssertEqual(RedisStore.milliseconds(.zero), "1")
        XCTAssertEqual(RedisStore.milliseconds(.seconds(-5)), "1")
        XCTAssertEqual(RedisStore.milliseconds(.seconds(Int64.max)), "3000000000000")
    }

    private func feed(_ reader: RedisReader, _ text: String) throws -> [RedisReply] {
        try Array(text.utf8).withUnsafeBytes { try reader.feed($0) }
    }
}
