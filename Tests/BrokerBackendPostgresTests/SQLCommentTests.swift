// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import XCTest

@testable import BrokerBackendPostgres

/// The sqlcommenter comment on warehouse statements.
final class SQLCommentTests: XCTestCase {
    func testCommentCarriesTheTraceContextOnItsOwnLine() throws {
        let ids = try XCTUnwrap(TraceParent.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        let comment = SQLComment(ids)
        XCTAssertEqual(
            comment.tag("SELECT 1 -- note"),
            "SELECT 1 -- note\n/*application='mcp-broker',traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'*/")
    }

    func testTraceStateIsURLEncodedSoItCannotCloseTheComment() throws {
        var ids = try XCTUnwrap(TraceParent.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        ids.traceState = "rojo=00f0,congo=*/'x"
        let tagged = SQLComment(ids).tag("SELECT 1")
        XCTAssertTrue(tagged.hasSuffix(",tracestate='rojo%3D00f0%2Ccongo%3D%2A%2F%27x'*/"), tagged)
        XCTAssertEqual(tagged.components(separatedBy: "*/").count, 2, "exactly one comment terminator")
        XCTAssertEqual(tagged.filter { $0 == "'" }.count, 6, "only the quotes around the three values")
    }

    func testNoTraceNoComment() {
        XCTAssertEqual(SQLComment(nil).tag("SELECT 1"), "SELECT 1")
    }

    func testOperationNameIsAKnownKeywordOnly() {
        XCTAssertEqual(SQLComment.operationName("  select * from t"), "SELECT")
        XCTAssertEqual(SQLComment.operationName("(SELECT 1)"), "SELECT")
        XCTAssertEqual(SQLComment.operationName("update t set a = 1"), "UPDATE")
        XCTAssertNil(SQLComment.operationName("secretword from t"))
        XCTAssertNil(SQLComment.operationName(""))
    }
}
