// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import Foundation
import MCPCore
import XCTest

@testable import BrokerBackendREST

final class OpenAPIImportTests: XCTestCase {
    static let crmDocument = #"""
        {
          "openapi": "3.0.3",
          "info": { "title": "Demo CRM", "version": "1.0.0" },
          "paths": {
            "/api/v1/accounts": {
              "get": {
                "operationId": "listAccounts", "tags": ["accounts"], "summary": "List accounts.",
                "parameters": [
                  { "name": "limit", "in": "query", "schema": { "type": "integer", "format": "int32", "minimum": 1, "maximum": 100, "example": 20 } },
                  { "name": "cursor", "in": "query", "schema": { "type": "string", "nullable": true } },
                  { "$ref": "#/components/parameters/Segment" }
                ],
                "responses": { "200": { "description": "ok" } }
              },
              "post": {
                "operationId": "createAccount", "tags": ["accounts"], "description": "Creates an account.",
                "parameters": [ { "name": "Idempotency-Key", "in": "header", "schema": { "type": "string" } }, { "name": "Authorization", "in": "header", "schema": { "type": "string" } } ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NewAccount" } } } },
                "responses": { "201": { "description": "created" } }
              }
            },
            "/api/v1/accounts/{accountId}": {
              "parameters": [ { "name": "accountId", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^acc-[0-9]{4}$" } } ],
              "get": {
                "operationId": "getAccount", "tags": ["accounts"], "summary": "One account.",
                "parameters": [ { "name": "session", "in": "cookie", "schema": { "type": "string" } } ],
                "responses": { "200": { "description": "ok", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Account" } } } } }
              }
            },
            "/api/v1/opportunities": {
              "get": {
                "operationId": "listOpportunities", "tags": ["sales"], "summary": "Open opportunities.",
                "parameters": [
                  { "name": "stage", "in": "query", "schema": { "$ref": "#/components/schemas/Stage" } },
                  { "name": "min_amount", "in": "query", "schema": { "type": "number", "minimum": 0, "exclusiveMinimum": true } },
                  { "name": "filter", "in": "query", "schema": { "oneOf": [ { "type": "string" }, { "type": "integer" } ] } }
                ],
                "responses": { "200": { "description": "ok" } }
              }
            },
            "/health": { "get": { "responses": { "200": { "description": "ok" } } } }
          },
          "components": {
            "parameters": {
              "Segment": { "name": "segment", "in": "query", "description": "Customer segment.", "schema": { "$ref": "#/components/schemas/Segment" } }
            },
            "schemas": {
              "Segment": { "type": "string", "enum": ["smb", "enterprise"] },
              "Stage": { "type": "string", "enum": ["lead", "won", "lost"] },
              "Address": { "type": "object", "properties": { "city": { "type": "string" } }, "additionalProperties": false },
              "NewAccount": {
                "type": "object", "required": ["name"],
                "properties": {
                  "name": { "type": "string", "minLength": 1, "maxLength": 80, "example": "Acme" },
                  "segment": { "$ref": "#/components/schemas/Segment" },
                  "employees": { "type": "integer", "format": "int64", "minimum": 0 },
                  "address": { "$ref": "#/components/schemas/Address" },
                  "tags": { "type": "array", "items": { "type": "string" }, "uniqueItems": true },
                  "meta": { "allOf": [ { "$ref": "#/components/schemas/Address" } ] }
                }
              },
              "Account": { "allOf": [ { "$ref": "#/components/schemas/NewAccount" }, { "type": "object", "properties": { "id": { "type": "string", "readOnly": true } } } ] }
            }
          }
        }
        """#

    private var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tmp)
    }

    private func write(_ text: String, _ name: String = "crm.json") throws -> String {
        let url = tmp.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    private func importAll(_ filter: OperationFilter = .init(), renames: [String: String] = [:], descriptions: [String: String] = [:]) throws -> [RESTOperation] {
        try OpenAPIImport.operations(fromFile: write(Self.crmDocument), include: filter, renames: renames, descriptions: descriptions)
    }

    func testImportsEveryOperationWithIds() throws {
        let ops = try importAll()
        XCTAssertEqual(Set(ops.map(\.toolName)), ["list_accounts", "create_account", "get_account", "list_opportunities"])
        for op in ops { XCTAssertNoThrow(try CompiledSchema(op.inputSchema), op.toolName) }
        let get = try XCTUnwrap(ops.first { $0.toolName == "get_account" })
        XCTAssertEqual(get.method, "GET")
        XCTAssertEqual(get.pathTemplate, "/api/v1/accounts/{accountId}")
        XCTAssertEqual(get.parameters.map(\.name), ["accountId"], "optional cookie parameter skipped, path-item parameter kept")
        XCTAssertEqual(get.description, "One account.")
        XCTAssertTrue(get.normalizer.isIdentity)
        XCTAssertTrue(get.errorMessages.isEmpty)
        let r = try get.buildRequest(arguments: ["accountId": "acc-0001"])
        XCTAssertEqual(r.path, "/api/v1/accounts/acc-0001")
        XCTAssertFalse(try CompiledSchema(get.inputSchema).validate(["accountId": "x"]).isEmpty, "pattern kept")
    }

    func testParameterSchemasTranslated() throws {
        let ops = try importAll()
        let list = try XCTUnwrap(ops.first { $0.toolName == "list_accounts" })
        let props = try XCTUnwrap(list.inputSchema["properties"]?.objectValue)
        XCTAssertEqual(props["limit"], ["type": "integer", "format": "int32", "minimum": 1, "maximum": 100])
        XCTAssertEqual(props["cursor"], ["type": ["string", "null"]])
        XCTAssertEqual(props["segment"], ["type": "string", "enum": ["smb", "enterprise"], "description": "Customer segment."])
        let schema = try CompiledSchema(list.inputSchema)
        XCTAssertEqual(schema.validate(["limit": 5, "segment": "smb", "cursor": .null]), [])
        XCTAssertFalse(schema.validate(["limit": 500]).isEmpty)
        XCTAssertFalse(schema.validate(["segment": "gov"]).isEmpty)

        let opps = try XCTUnwrap(ops.first { $0.toolName == "list_opportunities" })
        let oprops = try XCTUnwrap(opps.inputSchema["properties"]?.objectValue)
        XCTAssertEqual(oprops["stage"]?["enum"], ["lead", "won", "lost"])
        XCTAssertEqual(oprops["min_amount"], ["type": "number", "exclusiveMinimum": 0])
        XCTAssertNil(oprops["filter"]?["type"], "oneOf falls back to no type constraint")
        XCTAssertNotNil(oprops["filter"]?["description"])
    }

    func testRequestBodyFromRef() throws {
        let create = try XCTUnwrap(importAll().first { $0.toolName == "create_account" })
        XCTAssertEqual(create.method, "POST")
        XCTAssertFalse(create.readOnly)
        XCTAssertEqual(create.description, "Creates an account.")
        XCTAssertTrue(create.bodyRequired)
        let body = try XCTUnwrap(create.bodySchema)
        XCTAssertEqual(body["required"], ["name"])
        XCTAssertEqual(body["properties"]?["segment"]?["enum"], ["smb", "enterprise"])
        XCTAssertNil(body["properties"]?["name"]?["example"])
        XCTAssertNil(body["properties"]?["tags"]?["uniqueItems"])
        XCTAssertEqual(body["properties"]?["meta"]?["additionalProperties"], false, "one-element allOf inlined")
        let schema = try CompiledSchema(create.inputSchema)
        XCTAssertEqual(schema.validate(["body": ["name": "Acme", "address": ["city": "Oslo"]], "Idempotency-Key": "k1"]), [])
        XCTAssertFalse(schema.validate(["body": ["address": ["city": "Oslo"]]]).isEmpty, "name required")
        XCTAssertFalse(schema.validate(["body": ["name": "A", "address": ["zip": "1"]]]).isEmpty, "nested additionalProperties")
        let r = try create.buildRequest(arguments: ["body": ["name": "Acme"], "Idempotency-Key": "k1"])
        XCTAssertEqual(r.body, ["name": "Acme"])
        XCTAssertEqual(r.headers.map(\.0), ["Idempotency-Key"])
        XCTAssertEqual(create.parameters.map(\.name), ["Idempotency-Key"], "Authorization header parameter ignored")
    }

    func testTagAndIdFilters() throws {
        XCTAssertEqual(try importAll(.init(tags: ["sales"])).map(\.toolName), ["list_opportunities"])
        XCTAssertEqual(try importAll(.init(operationIds: ["getAccount"])).map(\.toolName), ["get_account"])
        let both = try importAll(.init(operationIds: ["getAccount"], tags: ["sales"]))
        XCTAssertEqual(Set(both.map(\.toolName)), ["get_account", "list_opportunities"])
    }

    func testRenamesAndDescriptions() throws {
        let ops = try importAll(
            .init(tags: ["accounts"]), renames: ["listAccounts": "crm_accounts"], descriptions: ["getAccount": "Fetch one CRM account."])
        XCTAssertTrue(ops.contains { $0.toolName == "crm_accounts" })
        XCTAssertEqual(ops.first { $0.toolName == "get_account" }?.description, "Fetch one CRM account.")
    }

    func testImportErrors() throws {
        XCTAssertThrowsError(try importAll(renames: ["listAccounts": "Bad Name"])) { e in
            XCTAssertEqual((e as? ConfigError)?.path, "renames.listAccounts")
        }
        XCTAssertThrowsError(try importAll(.init(operationIds: ["nope"]))) { e in
            XCTAssertEqual((e as? ConfigError)?.path, "include.operation_ids")
        }
        XCTAssertThrowsError(try importAll(.init(tags: ["sale"]))) { e in
            XCTAssertEqual((e as? ConfigError)?.path, "include.tags")
        }
        XCTAssertThrowsError(try importAll(renames: ["listAccounts": "get_account"])) { e in
            XCTAssertTrue((e as? ConfigError)?.reason.contains("also used") == true)
        }
        XCTAssertThrowsError(try OpenAPIImport.operations(fromFile: tmp.appendingPathComponent("none.json").path, include: .init(), renames: [:], descriptions: [:]))
        XCTAssertThrowsError(try OpenAPIImport.operations(fromFile: write("{\"openapi\": 3}", "bad.json"), include: .init(), renames: [:], descriptions: [:])) { e in
            XCTAssertTrue((e as? ConfigError)?.reason.contains("OpenAPI") == true)
        }
    }

    func testYAMLDocument() throws {
        let yaml = """
            openapi: 3.0.0
            info: { title: t, version: "1" }
            paths:
              /contacts/{id}:
                get:
                  operationId: get-contact
                  parameters:
                    - { name: id, in: path, required: true, schema: { type: integer, minimum: 1 } }
                  responses: { "200": { description: ok } }
            """
        let ops = try OpenAPIImport.operations(fromFile: write(yaml, "c.yaml"), include: .init(), renames: [:], descriptions: [:])
        XCTAssertEqual(ops.map(\.toolName), ["get_contact"])
        XCTAssertEqual(try ops.first?.buildRequest(arguments: ["id": 7]).path, "/contacts/7")
    }

    func testSnakeCase() {
        XCTAssertEqual(OpenAPIImport.snakeCase("listAccounts"), "list_accounts")
        XCTAssertEqual(OpenAPIImport.snakeCase("getHTTPStatus"), "get_http_status")
        XCTAssertEqual(OpenAPIImport.snakeCase("get-account.v2"), "get_account_v2")
    }

    /// The demo CRM's own document (shipped in config/crm): every operation must import and compile.
    func testDemoCRMDocument() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("config/crm/openapi.json").path
        XCTAssertTrue(FileManager.default.fileExists(atPath: path), "config/crm/openapi.json is part of the repository")
        let ops = try OpenAPIImport.operations(fromFile: path, include: .init(), renames: [:], descriptions: [:])
        XCTAssertTrue(Set(ops.map(\.toolName)).isSuperset(of: ["list_accounts", "get_account", "create_account"]))
        for op in ops {
            XCTAssertNoThrow(try CompiledSchema(op.inputSchema), op.toolName)
            XCTAssertTrue(RESTOperation.isValidToolName(op.toolName))
        }
    }
}
