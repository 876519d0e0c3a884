// SPDX-License-Identifier: Apache-2.0

/// The OpenAPI 3.0.3 document of the `/api/v1` routes, served at `GET /openapi.json`.
///
/// Kept as one static literal so the served document and `config/crm/openapi.json` (written with
/// `crm-demo --print-openapi > config/crm/openapi.json`) are byte-identical.
enum CRMOpenAPI {
    /// The document's JSON text.
    static let document = #"""
{
 "openapi": "3.0.3",
 "info": {
  "title": "Demo CRM API",
  "version": "1.0.0",
  "description": "The mcp-broker demo CRM: accounts, their contacts and sales opportunities. Deterministic seed data (200 accounts, 300 opportunities)."
 },
 "servers": [{"url": "http://127.0.0.1:8089", "description": "Local demo (crm-demo --port 8089)"}],
 "tags": [{"name": "accounts", "description": "Customer companies and their contacts."}, {"name": "opportunities", "description": "Sales pipeline."}],
 "security": [{"bearer": []}, {"basic": []}, {"apiKey": []}, {"oauth2": []}],
 "paths": {
  "/api/v1/accounts": {
   "get": {
    "operationId": "listAccounts",
    "tags": ["accounts"],
    "summary": "List accounts",
    "description": "Lists accounts, optionally filtered by industry and country, with cursor pagination.",
    "parameters": [
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "description": "Page size (default 25).",
      "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}
     },
     {
      "name": "cursor",
      "in": "query",
      "required": false,
      "description": "Opaque cursor from the previous page's next_cursor.",
      "schema": {"type": "string"}
     },
     {
      "name": "industry",
      "in": "query",
      "required": false,
      "description": "Only accounts in this industry.",
      "schema": {"type": "string", "enum": ["software", "manufacturing", "retail", "healthcare", "finance", "energy", "logistics", "media"]}
     },
     {
      "name": "country",
      "in": "query",
      "required": false,
      "description": "Only accounts in this ISO 3166-1 alpha-2 country.",
      "schema": {"type": "string", "pattern": "^[A-Z]{2}$"}
     }
    ],
    "responses": {
     "200": {"description": "A page of accounts.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AccountPage"}}}},
     "400": {"description": "Malformed cursor.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "422": {"description": "Invalid parameter.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "401": {"description": "No valid credential.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "429": {"description": "Rate limited; see Retry-After.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "503": {"description": "Temporarily unavailable; see Retry-After.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
   },
   "post": {
    "operationId": "createAccount",
    "tags": ["accounts"],
    "summary": "Create an account",
    "description": "Creates an account. With an Idempotency-Key, a repeated request with the same body returns the first result (200); a different body is refused (409).",
    "parameters": [
     {
      "name": "Idempotency-Key",
      "in": "header",
      "required": false,
      "description": "Makes retries of this POST safe.",
      "schema": {"type": "string", "minLength": 1, "maxLength": 200}
     }
    ],
    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewAccount"}}}},
    "responses": {
     "201": {"description": "Created.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Account"}}}},
     "200": {
      "description": "Replay of an earlier request with the same Idempotency-Key.",
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Account"}}}
     },
     "400": {"description": "Body is not a JSON object.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "409": {
      "description": "IDEMPOTENCY_CONFLICT: key reused with a different body.",
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
     },
     "422": {"description": "VALIDATION_FAILED, with field errors.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "401": {"description": "No valid credential.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "429": {"description": "Rate limited; see Retry-After.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "503": {"description": "Temporarily unavailable; see Retry-After.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
   }
  },
  "/api/v1/accounts/{id}": {
   "get": {
    "operationId": "getAccount",
    "tags": ["accounts"],
    "summary": "Get an account",
    "description": "Returns one account by id.",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "Account id.",
      "schema": {"type": "string", "pattern": "^acc-[0-9]{4}$"},
      "example": "acc-0001"
     }
    ],
    "responses": {
     "200": {"description": "The account.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Account"}}}},
     "404": {"description": "ACCOUNT_NOT_FOUND.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "401": {"description": "No valid credential.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "429": {"description": "Rate limited; see Retry-After.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "503": {"description": "Temporarily unavailable; see Retry-After.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
   }
  },
  "/api/v1/accounts/{id}/contacts": {
   "get": {
    "operationId": "listAccountContacts",
    "tags": ["accounts"],
    "summary": "List an account's contacts",
    "description": "Lists the contacts of an account; pages follow the RFC 8288 Link header (rel=next).",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "Account id.",
      "schema": {"type": "string", "pattern": "^acc-[0-9]{4}$"},
      "example": "acc-0001"
     },
     {
      "name": "page",
      "in": "query",
      "required": false,
      "description": "Page number (default 1).",
      "schema": {"type": "integer", "minimum": 1, "default": 1}
     },
     {
      "name": "per_page",
      "in": "query",
      "required": false,
      "description": "Page size (default 10).",
      "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}
     }
    ],
    "responses": {
     "200": {
      "description": "A page of contacts.",
      "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Contact"}}}},
      "headers": {
       "Link": {"description": "RFC 8288 links: first, prev, next, last.", "schema": {"type": "string"}},
       "X-Total-Count": {"description": "Contacts across all pages.", "schema": {"type": "integer"}}
      }
     },
     "404": {"description": "ACCOUNT_NOT_FOUND.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "422": {"description": "Invalid parameter.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "401": {"description": "No valid credential.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "429": {"description": "Rate limited; see Retry-After.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "503": {"description": "Temporarily unavailable; see Retry-After.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
   }
  },
  "/api/v1/opportunities": {
   "get": {
    "operationId": "listOpportunities",
    "tags": ["opportunities"],
    "summary": "List opportunities",
    "description": "Lists opportunities, optionally filtered by stage and account, with cursor pagination.",
    "parameters": [
     {
      "name": "stage",
      "in": "query",
      "required": false,
      "description": "Only opportunities in this stage.",
      "schema": {"type": "string", "enum": ["prospecting", "qualification", "proposal", "negotiation", "closed_won", "closed_lost"]}
     },
     {
      "name": "account_id",
      "in": "query",
      "required": false,
      "description": "Only opportunities of this account.",
      "schema": {"type": "string", "pattern": "^acc-[0-9]{4}$"}
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "description": "Page size (default 25).",
      "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}
     },
     {
      "name": "cursor",
      "in": "query",
      "required": false,
      "description": "Opaque cursor from the previous page's next_cursor.",
      "schema": {"type": "string"}
     }
    ],
    "responses": {
     "200": {"description": "A page of opportunities.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpportunityPage"}}}},
     "400": {"description": "Malformed cursor.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "422": {"description": "Invalid parameter.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "401": {"description": "No valid credential.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "429": {"description": "Rate limited; see Retry-After.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "503": {"description": "Temporarily unavailable; see Retry-After.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
   }
  },
  "/api/v1/opportunities/{id}": {
   "patch": {
    "operationId": "updateOpportunity",
    "tags": ["opportunities"],
    "summary": "Update an opportunity",
    "description": "Moves an opportunity to another stage and/or changes its amount.",
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "Opportunity id.",
      "schema": {"type": "string", "pattern": "^opp-[0-9]{4}$"},
      "example": "opp-0001"
     }
    ],
    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpportunityUpdate"}}}},
    "responses": {
     "200": {"description": "The updated opportunity.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Opportunity"}}}},
     "400": {"description": "Body is not a JSON object.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "404": {"description": "OPPORTUNITY_NOT_FOUND.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "422": {"description": "VALIDATION_FAILED, with field errors.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "401": {"description": "No valid credential.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "429": {"description": "Rate limited; see Retry-After.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
     "503": {"description": "Temporarily unavailable; see Retry-After.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
   }
  }
 },
 "components": {
  "securitySchemes": {
   "bearer": {"type": "http", "scheme": "bearer", "description": "Static token (CRM_BEARER_TOKEN) or one issued by /oauth/token."},
   "basic": {"type": "http", "scheme": "basic", "description": "CRM_BASIC_USER / CRM_BASIC_PASSWORD."},
   "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "CRM_API_KEY; also accepted as the api_key query parameter."},
   "oauth2": {
    "type": "oauth2",
    "description": "Client credentials (CRM_CLIENT_ID / CRM_CLIENT_SECRET); tokens live 300 s.",
    "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}}
   }
  },
  "schemas": {
   "Owner": {"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "string"}, "name": {"type": "string"}}},
   "Account": {
    "type": "object",
    "required": ["id", "name", "industry", "country", "annual_revenue", "owner", "created_at"],
    "properties": {
     "id": {"type": "string", "example": "acc-0001"},
     "name": {"type": "string"},
     "industry": {"type": "string", "enum": ["software", "manufacturing", "retail", "healthcare", "finance", "energy", "logistics", "media"]},
     "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
     "annual_revenue": {"type": "integer", "description": "EUR per year."},
     "owner": {"$ref": "#/components/schemas/Owner"},
     "created_at": {"type": "string", "format": "date-time"}
    }
   },
   "NewAccount": {
    "type": "object",
    "additionalProperties": false,
    "required": ["name", "industry", "country"],
    "properties": {
     "name": {"type": "string", "minLength": 1, "maxLength": 200},
     "industry": {"type": "string", "enum": ["software", "manufacturing", "retail", "healthcare", "finance", "energy", "logistics", "media"]},
     "country": {"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2."}
    }
   },
   "AccountPage": {
    "type": "object",
    "required": ["data", "next_cursor"],
    "properties": {
     "data": {"type": "array", "items": {"$ref": "#/components/schemas/Account"}},
     "next_cursor": {"type": "string", "nullable": true, "description": "null on the last page."}
    }
   },
   "Contact": {
    "type": "object",
    "required": ["id", "account_id", "first_name", "last_name", "email"],
    "properties": {
     "id": {"type": "string"},
     "account_id": {"type": "string"},
     "first_name": {"type": "string"},
     "last_name": {"type": "string"},
     "email": {"type": "string", "format": "email"},
     "title": {"type": "string"},
     "phone": {"type": "string"}
    }
   },
   "Money": {
    "type": "object",
    "additionalProperties": false,
    "required": ["value", "currency"],
    "properties": {"value": {"type": "number", "minimum": 0}, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}
   },
   "Opportunity": {
    "type": "object",
    "required": ["id", "account_id", "name", "stage", "amount", "close_date"],
    "properties": {
     "id": {"type": "string", "example": "opp-0001"},
     "account_id": {"type": "string"},
     "name": {"type": "string"},
     "stage": {"type": "string", "enum": ["prospecting", "qualification", "proposal", "negotiation", "closed_won", "closed_lost"]},
     "amount": {"$ref": "#/components/schemas/Money"},
     "close_date": {"type": "string", "format": "date"}
    }
   },
   "OpportunityUpdate": {
    "type": "object",
    "additionalProperties": false,
    "properties": {
     "stage": {"type": "string", "enum": ["prospecting", "qualification", "proposal", "negotiation", "closed_won", "closed_lost"]},
     "amount": {"$ref": "#/components/schemas/Money"}
    }
   },
   "OpportunityPage": {
    "type": "object",
    "required": ["data", "next_cursor"],
    "properties": {
     "data": {"type": "array", "items": {"$ref": "#/components/schemas/Opportunity"}},
     "next_cursor": {"type": "string", "nullable": true, "description": "null on the last page."}
    }
   },
   "Error": {
    "type": "object",
    "required": ["error"],
    "properties": {
     "error": {
      "type": "object",
      "required": ["code", "message"],
      "properties": {
       "code": {"type": "string", "example": "ACCOUNT_NOT_FOUND"},
       "message": {"type": "string"},
       "fields": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}
      }
     }
    }
   }
  }
 }
}
"""#
}
