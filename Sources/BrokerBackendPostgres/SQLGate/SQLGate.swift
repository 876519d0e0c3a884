// SPDX-License-Identifier: Apache-2.0

import MCPCore

/// Parses analyst SQL with the real PostgreSQL parser (libpg_query) and admits only one plain read-only SELECT.
///
/// This is the second wall: the statement still runs inside `BEGIN READ ONLY`, under a statement timeout, as a
/// role that can only SELECT the curated schema. The gate refuses, each with its own code (see
/// ``SQLGateRejection``): oversize, empty or NUL-bearing text, syntax errors, more than one statement, anything
/// but a SELECT (set operations and VALUES included), `SELECT … INTO`, row locks, data-modifying CTEs, calls to
/// functions outside ``allowedFunctions`` anywhere in the tree, relations in `pg_temp`, TABLESAMPLE methods
/// other than SYSTEM/BERNOULLI, schema-qualified operators, casts to the catalogue-lookup `reg*` types and XML
/// constructs; and, given a ``SQLRelationScope``, any relation outside the curated schema.
///
/// Assumes the server parses like libpg_query 15 with `standard_conforming_strings = on` (the default, and an
/// analyst cannot change it: SET and `set_config` are refused).
public struct SQLGate: Sendable {
    /// Function names callable unqualified or as `pg_catalog.name` (stored lowercased).
    public let allowedFunctions: Set<String>
    /// Largest accepted query, in UTF-8 bytes.
    public let maxBytes: Int

    /// Upper bound for ``maxBytes``: the parser's stack need grows with the text (see ``stackBytes``).
    public static let maxBytesCeiling = 65_536

    /// A gate with the given allowlist and size cap (clamped to 1…``maxBytesCeiling``).
    public init(allowedFunctions: Set<String> = SQLGate.defaultFunctions, maxBytes: Int = 8192) {
        // PostgreSQL folds unquoted identifiers to lowercase, so only lowercase entries can ever match.
        self.allowedFunctions = Set(allowedFunctions.map { $0.lowercased() })
        self.maxBytes = min(max(maxBytes, 1), Self.maxBytesCeiling)
    }

    // Measured ≈ 250 bytes of stack per nesting level and at most one level per two bytes of text; 512 bytes per
    // byte of text leaves a 4× margin, and 8 MiB (reserved, not committed) is the floor.
    private var stackBytes: Int { max(8 << 20, maxBytes * 512) }

    /// Returns the statement text to run (trimmed, without a trailing ';') or the rejection.
    ///
    /// The text is exactly the parsed statement's bytes, so what runs is what was checked. It may end in a
    /// `--` comment: add a newline before appending anything to it. Synchronous and CPU-only (well under a
    /// millisecond for 8 KiB); the parse runs on a short-lived thread with a large stack.
    ///
    /// With a `scope`, every relation the query names must be in it (see ``SQLRelationScope``).
    public func check(_ sql: String, scope: SQLRelationScope? = nil) -> Result<String, SQLGateRejection> {
        let byteCount = sql.utf8.count
        if byteCount > maxBytes { return .failure(.tooLong(bytes: byteCount, limit: maxBytes)) }
        // A NUL would end the C string early: the parser would check a prefix of what the caller holds.
        if sql.utf8.contains(0) { return .failure(.nulByte) }
        if sql.utf8.allSatisfy(Self.isSQLWhitespace) { return .failure(.empty) }
        let allowed = allowedFunctions
        let outcome = DeepStack.run(stackBytes: stackBytes) { Self.analyze(sql, allowedFunctions: allowed, scope: scope) }
        return outcome ?? .failure(.unanalyzable)
    }

    /// Parses and inspects `sql`; runs on the deep-stack thread because both steps recurse per nesting level.
    private static func analyze(_ sql: String, allowedFunctions: Set<String>, scope: SQLRelationScope?) -> Result<String, SQLGateRejection> {
        let tree: JSONValue
        switch PGQueryParser.parse(sql) {
        case .tree(let value): tree = value
        case .syntaxError(let message, let cursor): return .failure(.syntax(message, cursor: cursor))
        case .tooDeep: return .failure(.tooComplex)
        case .unreadable: return .failure(.unanalyzable)
        }
        guard let statements = tree["stmts"]?.arrayValue else { return .failure(.unanalyzable) }
        // libpg_query drops empty statements (";;"), so a trailing ';' does not count as a second statement.
        guard let raw = statements.first else { return .failure(.empty) }
        guard statements.count == 1 else { return .failure(.multipleStatements) }
        guard let statement = raw["stmt"]?.objectValue, statement.count == 1, let kind = statement.keys.first,
            let body = statement[kind]
        else { return .failure(.unanalyzable) }
        guard kind == "SelectStmt" else {
            return .failure(.notSelect(SQLStatementNames.name(of: kind, body: body)))
        }
        var inspector = SQLTreeInspector(allowedFunctions: allowedFunctions)
        if let rejection = inspector.firstViolation(in: .object(statement)) { return .failure(rejection) }
        if let scope, let rejection = SQLRelationChecker(scope: scope).firstViolation(in: .object(statement)) {
            return .failure(rejection)
        }
        guard let text = statementText(sql, raw: raw) else { return .failure(.unanalyzable) }
        return .success(text)
    }

    /// The statement's own bytes (`stmt_location`/`stmt_len` are UTF-8 offsets; a zero length means "to the end"),
    /// trimmed of surrounding whitespace.
    private static func statementText(_ sql: String, raw: JSONValue) -> String? {
        let bytes = Array(sql.utf8)
        let start = Int(raw["stmt_location"]?.intValue ?? 0)
        let length = Int(raw["stmt_len"]?.intValue ?? 0)
        let end = length == 0 ? bytes.count : start + length
        guard start >= 0, start <= end, end <= bytes.count else { return nil }
        let slice = bytes[start..<end]
        // Only the scanner's own whitespace is trimmed: anything else (a no-break space) is part of the statement.
        guard let first = slice.firstIndex(where: { !isSQLWhitespace($0) }),
            let last = slice.lastIndex(where: { !isSQLWhitespace($0) })
        else { return nil }
        return String(decoding: slice[first...last], as: UTF8.self)
    }

    /// The bytes PostgreSQL's scanner treats as whitespace (space, \t, \n, \v, \f, \r).
    private static func isSQLWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// Whether `sql` is one plain SELECT (also VALUES, TABLE, set operations and WITH … SELECT): only such a
    /// statement can be wrapped in a subquery (see ``BoundedSelect``). Used for ops-written named queries, so no
    /// other rule of the gate applies.
    public static func isSelect(_ sql: String) -> Bool {
        guard !sql.utf8.contains(0) else { return false }
        let outcome = DeepStack.run(stackBytes: max(8 << 20, sql.utf8.count * 512)) { () -> Bool in
            guard case .tree(let tree) = PGQueryParser.parse(sql), let statements = tree["stmts"]?.arrayValue, statements.count == 1,
                let statement = statements[0]["stmt"]?.objectValue, statement.count == 1, let body = statement["SelectStmt"]
            else { return false }
            // SELECT … INTO and row locks cannot sit inside a subquery either.
            return (body["intoClause"]?.isNull ?? true) && (body["lockingClause"]?.arrayValue?.isEmpty ?? true)
        }
        return outcome ?? false
    }

    /// Whether `sql` may run in libpq pipeline mode, which cannot carry the COPY sub-protocol: false for a COPY and
    /// for anything libpg_query cannot read (such a named query then runs one statement per round trip).
    static func isPipelinable(_ sql: String) -> Bool {
        guard !sql.utf8.contains(0) else { return false }
        let outcome = DeepStack.run(stackBytes: max(8 << 20, sql.utf8.count * 512)) { () -> Bool in
            guard case .tree(let tree) = PGQueryParser.parse(sql), let statements = tree["stmts"]?.arrayValue else { return false }
            return !statements.contains { $0["stmt"]?["CopyStmt"] != nil }
        }
        return outcome ?? false
    }
}
