// SPDX-License-Identifier: Apache-2.0

import MCPCore
import XCTest

@testable import BrokerBackendREST

final class NormalizerTests: XCTestCase {
    private let doc: JSONValue = [
        "data": [
            ["id": "acc-0001", "name": "Acme", "owner": ["name": "Ann", "email": "ann@example.com"], "secret": "x"],
            ["id": "acc-0002", "name": "Globex", "owner": ["name": "Bob", "email": "bob@example.com"], "secret": "y"],
        ],
        "a/b": 1, "m~n": 2, "": 3, "next_cursor": "c2",
    ]

    func testJSONPointerBasicsAndArrays() {
        XCTAssertEqual(jsonPointer(doc, ""), doc)
        XCTAssertEqual(jsonPointer(doc, "/data/1/name"), "Globex")
        XCTAssertEqual(jsonPointer(doc, "/data/0/owner/email"), "ann@example.com")
        XCTAssertNil(jsonPointer(doc, "/data/2"))
        XCTAssertNil(jsonPointer(doc, "/data/01"), "leading zeros are not indexes")
        XCTAssertNil(jsonPointer(doc, "/data/-"))
        XCTAssertNil(jsonPointer(doc, "/missing"))
        XCTAssertNil(jsonPointer(doc, "/next_cursor/x"), "cannot step into a string")
    }

    func testJSONPointerEscapes() {
        XCTAssertEqual(jsonPointer(doc, "/a~1b"), 1)
        XCTAssertEqual(jsonPointer(doc, "/m~0n"), 2)
        XCTAssertEqual(jsonPointer(doc, "/"), 3, "'/' is the empty-string key")
        XCTAssertNil(jsonPointer(doc, "/m~2n"), "~2 is not an escape")
        XCTAssertNil(jsonPointer(doc, "data"), "a pointer starts with /")
        XCTAssertEqual(JSONPointer.tokens("/~01"), ["~1"], "~01 unescapes to ~1, not /")
    }

    func testIdentity() {
        XCTAssertEqual(ResponseNormalizer.identity.apply(doc), doc)
        XCTAssertTrue(ResponseNormalizer.identity.isIdentity)
    }

    func testSelectRenameOnItems() {
        let n = ResponseNormalizer(itemsPointer: "/data", fields: [("account_id", "/id"), ("owner", "/owner/name"), ("phone", "/phone")])
        XCTAssertEqual(
            n.apply(doc),
            ["items": [["account_id": "acc-0001", "owner": "Ann"], ["account_id": "acc-0002", "owner": "Bob"]]])
    }

    func testItemsMissingGivesEmptyList() {
        let n = ResponseNormalizer(itemsPointer: "/nothing")
        XCTAssertEqual(n.apply(doc), ["items": []])
        XCTAssertNil(n.extractItems(["nothing": "not an array"]))
    }

    func testRootArrayItems() {
        let n = ResponseNormalizer(itemsPointer: "", drop: ["secret"])
        XCTAssertEqual(n.apply([["id": 1, "secret": "s"], ["id": 2]]), ["items": [["id": 1], ["id": 2]]])
    }

    func testDropAndFlatten() {
        let n = ResponseNormalizer(itemsPointer: "/data", drop: ["secret", "name"], flatten: true)
        XCTAssertEqual(
            n.apply(doc),
            [
                "items": [
                    ["id": "acc-0001", "owner_name": "Ann", "owner_email": "ann@example.com"],
                    ["id": "acc-0002", "owner_name": "Bob", "owner_email": "bob@example.com"],
                ]
            ])
    }

    func testFlattenDeepKeepsArraysAndEmptyObjects() {
        let n = ResponseNormalizer(flatten: true)
        let out = n.apply(["a": ["b": ["c": 1], "d": [1, 2]], "e": [:] as JSONValue])
        XCTAssertEqual(out, ["a_b_c": 1, "a_d": [1, 2], "e": [:] as JSONValue])
    }

    func testSingleObjectSelection() {
        let n = ResponseNormalizer(fields: [("first", "/data/0/name"), ("cursor", "/next_cursor")])
        XCTAssertEqual(n.apply(doc), ["first": "Acme", "cursor": "c2"])
    }

    func testWrapJoinsPages() {
        let n = ResponseNormalizer(itemsPointer: "/data", fields: [("id", "/id")])
        let page1 = (n.extractItems(doc) ?? []).map(n.mapItem)
        let page2 = (n.extractItems(["data": [["id": "acc-0003"]]]) ?? []).map(n.mapItem)
        XCTAssertEqual(n.wrap(items: page1 + page2), ["items": [["id": "acc-0001"], ["id": "acc-0002"], ["id": "acc-0003"]]])
    }
}
