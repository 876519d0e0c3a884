// SPDX-License-Identifier: Apache-2.0

/// Rewrites a SELECT so that the server, not the broker, enforces the byte cap: no row that does not fit ever
/// crosses the wire, so libpq never buffers it.
///
/// libpq reads a whole row before single-row mode hands it over: a cap checked on our side comes after a
/// 100 MB `repeat('x', 100000000)` is already in memory. So the statement runs as
///
/// ```sql
/// SELECT CASE WHEN sum(b.t) OVER w > cap THEN NULL ELSE b.c1 END, …,
///        CASE WHEN sum(b.t) OVER w > cap THEN b.t || ';' || b.s1 || ',' || … END    -- the marker
/// FROM (SELECT CASE WHEN t > cap THEN NULL ELSE c1 END AS c1, …, sizes, t                  -- drop big rows
///       FROM (SELECT m.*, s1 + … AS t
///             FROM (SELECT q.*, size(c1) AS s1, … FROM (SELECT * FROM (<sql>) i OFFSET n) q(c1, …) OFFSET 0) m
///             OFFSET 0) a
///       OFFSET 0) b
/// WINDOW w AS (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) LIMIT rowLimit
/// ```
///
/// Every `OFFSET` is a fence: it stops the planner from pulling a subquery up and so evaluating the caller's
/// (possibly expensive) expressions, or the sizes, more than once; the innermost one also pages. The sizes are
/// the text-format bytes the server will send: `octet_length` for text types (PostgreSQL reads it from the
/// TOAST header without decompressing; `pg_column_size` would give the compressed size), twice that plus 2 for
/// bytea (hex output), `octet_length(c::text)` for every other variable-length type, and an upper bound for
/// fixed-width ones. A row larger than the cap is nulled before the window (so the window never stores it), and
/// the running total nulls every row from the first one that would take the page past the cap; the marker on
/// that row says how big it was and why.
struct BoundedSelect {
    /// The caller's statement (one SELECT; may end in a `--` comment).
    let sql: String
    /// Its result columns (from Describe).
    let columns: [PGColumn]
    /// Largest page, in text bytes.
    let byteCap: Int
    /// Rows to skip (the page's start).
    let offset: Int
    /// Rows to produce at most (the row cap plus the one that proves there is more).
    let rowLimit: Int

    /// Upper bounds of the text form of fixed-width types (bytes); anything not listed is measured.
    static let fixedWidth: [UInt32: Int] = [
        16: 1, 18: 4, 20: 20, 21: 6, 23: 11, 26: 10, 27: 24, 28: 10, 29: 10, 700: 16, 701: 25, 790: 32, 829: 17, 774: 23,
        869: 50, 650: 50, 1082: 16, 1083: 16, 1114: 32, 1184: 40, 1186: 100, 1266: 24, 2950: 36, 3220: 17,
    ]
    /// Types whose `octet_length` is their text size (text, varchar, bpchar, name).
    static let textLike: Set<UInt32> = [25, 1043, 1042, 19]

    /// The rewritten statement, or nil when there is nothing to bound (a result without columns).
    var statement: String? {
        guard !columns.isEmpty else { return nil }
        let n = columns.count
        let names = (1...n).map { "c\($0)" }
        let sizes: [String] = columns.enumerated().map { index, column in
            let c = "q.c\(index + 1)"
            if Self.textLike.contains(column.typeOID) { return "octet_length(\(c))::int8" }
            if column.typeOID == 17 { return "(octet_length(\(c))::int8 * 2 + 2)" }
            if let width = Self.fixedWidth[column.typeOID] { return "(CASE WHEN \(c) IS NULL THEN 0 ELSE \(width) END)::int8" }
            return "octet_length(\(c)::text)::int8"
        }
        let cap = max(0, byteCap)
        let fence = "SELECT * FROM (\n\(sql)\n) i OFFSET \(max(0, offset))"
        let measured = "SELECT q.*, \(sizes.enumerated().map { "coalesce(\($1), 0) AS s\($0 + 1)" }.joined(separator: ", ")) "
            + "FROM (\(fence)) q(\(names.joined(separator: ", "))) OFFSET 0"
        // The row total gets its own fenced level so each CASE below reads one column instead of re-adding n sizes.
        let totaled = "SELECT m.*, \((1...n).map { "m.s\($0)" }.joined(separator: " + ")) AS t FROM (\(measured)) m OFFSET 0"
        let dropped = names.map { "CASE WHEN a.t > \(cap) THEN NULL ELSE a.\($0) END AS \($0)" }.joined(separator: ", ")
        let sized = "SELECT \(dropped), \((1...n).map { "a.s\($0)" }.joined(separator: ", ")), a.t FROM (\(totaled)) a OFFSET 0"
        let over = "sum(b.t) OVER w > \(cap)"
        let shown = names.map { "CASE WHEN \(over) THEN NULL ELSE b.\($0) END" }.joined(separator: ", ")
        let marker = "CASE WHEN \(over) THEN b.t || ';' || \((1...n).map { "b.s\($0)" }.joined(separator: " || ',' || ")) END"
        return "SELECT \(shown), \(marker) FROM (\(sized)) b WINDOW w AS (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) LIMIT \(max(0, rowLimit))"
    }
}
