// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import MCPCore
import XCTest

@testable import BrokerBackendREST

final class RESTOperationTests: XCTestCase {
    private let crmTools = """
        tools:
          get_account:
            description: One CRM account.
            method: get
            path: /api/v1/accounts/{id}
            parameters:
              id: { in: path, type: string, pattern: "^acc-[0-9]{4}$", description: The account id }
              expand: { in: query, type: string, enum: [owner] }
              x-request-id: { in: header, type: string }
            response: { fields: { id: /id, name: /name, owner: /owner/name }, drop: [], flatten: false }
            errors: { "404": "Account {id} not found in CRM." }
            output_schema: { type: object, properties: { id: { type: string } } }
          list_accounts:
            description: Accounts.
            method: GET
            path: /api/v1/accounts
            parameters:
              limit: { in: query, type: integer, minimum: 1, maximum: 100 }
              tags: { in: query, type: array, items: { type: string } }
            response: { items: /data, fields: { id: /id } }
            pagination: { next_cursor: /next_cursor, cursor_param: cursor, max_pages: 3, max_items: 50 }
          create_account:
            description: Create.
            method: POST
            path: /api/v1/accounts
            parameters:
              name: { in: body, type: string, required: true }
              employees: { in: body, type: integer }
            body:
              template: { name: "{{name}}", size: "{{employees}}", label: "New: {{name}}", kind: customer }
          update_account:
            description: Update.
            method: PATCH
            path: /api/v1/accounts/{id}
            parameters:
              id: { in: path, type: string }
            body: { schema: { type: object, properties: { name: { type: string } }, additionalProperties: false } }
          list_opportunities:
            description: Opportunities.
            method: GET
            path: /api/v1/opportunities
            pagination: { link_header: true }
        """

    private func tools() throws -> ConfigNode {
        let root = try ConfigNode.parse(yaml: crmTools, file: "test.yaml")
        return try XCTUnwrap(root.section("tools"))
    }

    private func op(_ name: String) throws -> RESTOperation {
        try RESTOperation.parse(name: name, XCTUnwrap(tools().section(name)))
    }

    func testParseGetAccount() throws {
        let op = try op("get_account")
        XCTAssertEqual(op.method, "GET")
        XCTAssertTrue(op.readOnly)
        XCTAssertEqual(op.pathTemplate, "/api/v1/accounts/{id}")
        XCTAssertEqual(op.parameters.map(\.name), ["id", "expand", "x-request-id"])
        XCTAssertEqual(op.parameters.first?.required, true, "path parameters are always required")
        XCTAssertEqual(op.normalizer.fields.map(\.name), ["id", "name", "owner"])
        XCTAssertEqual(op.errorMessage(status: 404, arguments: ["id": "acc-0042"]), "Account acc-0042 not found in CRM.")
        XCTAssertNil(op.errorMessage(status: 500, arguments: [:]))
        XCTAssertNotNil(op.outputSchema)
        let schema = try CompiledSchema(op.inputSchema)
        XCTAssertEqual(schema.validate(["id": "acc-0001", "expand": "owner"]), [])
        XCTAssertFalse(schema.validate(["id": "nope"]).isEmpty)
        XCTAssertFalse(schema.validate(["id": "acc-0001", "expand": "all"]).isEmpty)
        XCTAssertFalse(schema.validate(["id": "acc-0001", "extra": 1]).isEmpty, "additionalProperties is false")
        XCTAssertFalse(schema.validate([:]).isEmpty, "id is required")
        XCTAssertEqual(op.inputSchema["properties"]?["id"]?["description"], "The account id")
    }

    func testEveryDeclaredToolCompilesAndParses() throws {
        let t = try tools()
        for name in t.keys {
            let op = try RESTOperation.parse(name: name, XCTUnwrap(t.section(name)))
            XCTAssertNoThrow(try CompiledSchema(op.inputSchema), name)
        }
        try t.finish()
    }

    func testPaginationShapes() throws {
        let list = try op("list_accounts")
        XCTAssertEqual(list.pagination?.kind, .cursor(responseField: "/next_cursor", requestParam: "cursor"))
        XCTAssertEqual(list.pagination?.maxPages, 3)
        XCTAssertEqual(list.pagination?.maxItems, 50)
        XCTAssertEqual(list.pagination?.itemsPointer, "/data")
        let opps = try op("list_opportunities")
        XCTAssertEqual(opps.pagination?.kind, .linkHeader)
        XCTAssertEqual(opps.pagination?.itemsPointer, "")
        XCTAssertEqual(opps.normalizer.itemsPointer, "", "link-header pagination defaults to a root array")
        XCTAssertEqual(opps.pagination?.maxPages, 5)
    }

    func testPathEncoding() throws {
        let op = try op("get_account")
        let r = try op.buildRequest(arguments: ["id": "a/b c"])
        XCTAssertEqual(r.path, "/api/v1/accounts/a%2Fb%20c")
        XCTAssertEqual(RESTOperation.percentEncode("é~-._?&="), "%C3%A9~-._%3F%26%3D")
        XCTAssertTrue(r.query.isEmpty)
        XCTAssertNil(r.body)
    }

    func testQueryAndHeaders() throws {
        let get = try op("get_account")
        let r = try get.buildRequest(arguments: ["id": "acc-0001", "expand": "owner", "x-request-id": "r-1"])
        XCTAssertEqual(r.query.map { "\($0.0)=\($0.1)" }, ["expand=owner"])
        XCTAssertEqual(r.headers.map { "\($0.0): \($0.1)" }, ["x-request-id: r-1"])
        let list = try op("list_accounts")
        let l = try list.buildRequest(arguments: ["limit": 20, "tags": ["vip", "a&b"]])
        XCTAssertEqual(l.query.map { "\($0.0)=\($0.1)" }, ["limit=20", "tags=vip", "tags=a&b"])
        XCTAssertEqual(RESTOperation.encodeQuery(l.query), "limit=20&tags=vip&tags=a%26b")
        XCTAssertEqual(try list.buildRequest(arguments: ["limit": .null]).query.count, 0, "null is absent")
    }

    func testHeaderInjectionRefused() throws {
        let get = try op("get_account")
        XCTAssertThrowsError(try get.buildRequest(arguments: ["id": "acc-0001", "x-request-id": "a\r\nEvil: 1"])) { e in
            XCTAssertEqual((e as? BrokerError)?.code, .invalidArguments)
        }
    }

    func testMissingRequiredPathParameter() throws {
        let get = try op("get_account")
        XCTAssertThrowsError(try get.buildRequest(arguments: ["expand": "owner"])) { e in
            let err = e as? BrokerError
            XCTAssertEqual(err?.code, .invalidArguments)
            XCTAssertTrue(err?.message.contains("'id'") == true)
        }
    }

    func testBodyTemplateTyping() throws {
        let create = try op("create_account")
        XCTAssertFalse(create.readOnly)
        let r = try create.buildRequest(arguments: ["name": "Acme", "employees": 42])
        XCTAssertEqual(r.body, ["name": "Acme", "size": 42, "label": "New: Acme", "kind": "customer"])
        let partial = try create.buildRequest(arguments: ["name": "Acme"])
        XCTAssertEqual(partial.body, ["name": "Acme", "label": "New: Acme", "kind": "customer"], "absent optional argument is left out")
        XCTAssertEqual(create.inputSchema["required"], ["name"])
    }

    func testBodySchemaArgument() throws {
        let update = try op("update_account")
        let r = try update.buildRequest(arguments: ["id": "acc-0001", "body": ["name": "New"]])
        XCTAssertEqual(r.body, ["name": "New"])
        XCTAssertEqual(update.inputSchema["required"], ["id", "body"])
        let schema = try CompiledSchema(update.inputSchema)
        XCTAssertFalse(schema.validate(["id": "acc-0001", "body": ["nme": "typo"]]).isEmpty)
    }

    private func parseError(_ yaml: String, _ name: String = "t") -> ConfigError? {
        do {
            let root = try ConfigNode.parse(yaml: yaml, file: "b.yaml")
            guard let tools = try root.section("tools"), let node = try tools.section(name) else { return nil }
            _ = try RESTOperation.parse(name: name, node)
            return nil
        } catch {
            return error
        }
    }

    func testConfigErrors() {
        let base = "tools:\n  t:\n    description: d\n"
        var e = parseError(base + "    method: GET\n    path: /x\n    colour: red\n")
        XCTAssertEqual(e?.path, "tools.t.colour")
        XCTAssertTrue(e?.reason.contains("unknown key") == true)
        e = parseError(base + "    method: FETCH\n    path: /x\n")
        XCTAssertEqual(e?.path, "tools.t.method")
        e = parseError(base + "    method: GET\n    path: /x/{id}\n")
        XCTAssertEqual(e?.path, "tools.t.path")
        XCTAssertTrue(e?.reason.contains("{id}") == true)
        e = parseError(base + "    method: GET\n    path: /x\n    parameters:\n      id: { in: path, type: string }\n")
        XCTAssertEqual(e?.path, "tools.t.parameters")
        XCTAssertTrue(e?.reason.contains("'id'") == true)
        e = parseError(base + "    method: GET\n    path: /x\n    parameters:\n      q: { in: query, type: string, colour: red }\n")
        XCTAssertEqual(e?.path, "tools.t.parameters.q.colour")
        e = parseError(base + "    method: GET\n    path: /x\n    parameters:\n      q: { in: cookie, type: string }\n")
        XCTAssertEqual(e?.path, "tools.t.parameters.q.in")
        e = parseError(base + "    method: GET\n    path: /x\n    parameters:\n      q: { in: query, type: string, pattern: \"([\" }\n")
        XCTAssertEqual(e?.path, "tools.t.parameters.q")
        e = parseError(base + "    method: GET\n    path: /x\n    response: { items: data }\n")
        XCTAssertEqual(e?.path, "tools.t.response.items")
        e = parseError(base + "    method: GET\n    path: /x\n    errors: { \"nope\": x }\n")
        XCTAssertEqual(e?.path, "tools.t.errors.nope")
        e = parseError(base + "    method: POST\n    path: /x\n    body: { template: { a: \"{{ghost}}\" } }\n")
        XCTAssertEqual(e?.path, "tools.t.body.template")
        e = parseError(base + "    method: GET\n    path: /x\n    pagination: { max_pages: 2 }\n")
        XCTAssertEqual(e?.path, "tools.t.pagination")
        e = parseError(base + "    method: GET\n    path: /x\n    output_schema: { type: object, oneOf: [] }\n")
        XCTAssertEqual(e?.path, "tools.t.output_schema")
        e = parseError("tools:\n  Bad-Name:\n    description: d\n    method: GET\n    path: /x\n", "Bad-Name")
        XCTAssertEqual(e?.path, "tools.Bad-Name")
        e = parseError(base + "    method: GET\n    path: /x/{id}\n    parameters:\n      id: { in: path, type: string, required: false }\n")
        XCTAssertEqual(e?.path, "tools.t.parameters.id.required")
        e = parseError(base + "    method: GET\n    path: /x\n    parameters:\n      Authorization: { in: header, type: string }\n")
        XCTAssertEqual(e?.path, "tools.t.parameters.Authorization")
        e = parseError(base + "    method: POST\n    path: /x\n    parameters:\n      n: { in: body, type: string }\n")
        XCTAssertEqual(e?.path, "tools.t.parameters")
    }
}
