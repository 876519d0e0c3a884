// SPDX-License-Identifier: Apache-2.0

import MCPCore
import XCTest

final class JSONSchemaTests: XCTestCase {
    let schema: JSONValue = [
        "type": "object",
        "properties": [
            "id": ["type": "string", "pattern": "^[0-9]{10}$"],
            "qty": ["type": "integer", "minimum": 1, "maximum": 100],
            "status": ["type": "string", "enum": ["open", "closed"]],
            "from": ["type": "string", "format": "date"],
            "lines": ["type": "array", "minItems": 1, "items": ["type": "object", "properties": ["n": ["type": "number"]], "required": ["n"]]],
        ],
        "required": ["id"],
        "additionalProperties": false,
    ]

    func testValidArgumentsPass() throws {
        let s = try CompiledSchema(schema)
        XCTAssertEqual(s.validate(["id": "4500000001", "qty": 3, "status": "open", "from": "2024-02-29", "lines": [["n": 1.5]]]), [])
    }

    func testEachViolationIsReportedWithItsPath() throws {
        let s = try CompiledSchema(schema)
        let v = s.validate(["qty": 0, "status": "pending", "from": "2023-02-29", "lines": [["x": 1]], "extra": true])
        let text = v.map(\.description)
        XCTAssertTrue(text.contains("'id' is required"), "\(text)")
        XCTAssertTrue(text.contains("'qty' must be ≥ 1"), "\(text)")
        XCTAssertTrue(text.contains(#"'status' must be one of "open", "closed""#), "\(text)")
        XCTAssertTrue(text.contains("'from' must be a valid date"), "\(text)")
        XCTAssertTrue(text.contains("'lines.0.n' is required"), "\(text)")
        XCTAssertTrue(text.contains("'extra' is not a known parameter"), "\(text)")
        XCTAssertEqual(s.validate(["id": 12]).first?.description, "'id' must be string, got integer")
        XCTAssertEqual(s.validate(["id": "12"]).first?.description, "'id' must match the pattern ^[0-9]{10}$")
    }

    func testUnsupportedKeywordsAreRefusedAtCompileTime() {
        XCTAssertThrowsError(try CompiledSchema(["type": "object", "oneOf": []])) { error in
            XCTAssertTrue(String(describing: error).contains("unsupported keyword 'oneOf'"))
        }
        XCTAssertThrowsError(try CompiledSchema(["type": "string", "pattern": "("]))
        XCTAssertThrowsError(try CompiledSchema(["type": "strin"]))
    }
}
