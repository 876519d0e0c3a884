// SPDX-License-Identifier: Apache-2.0

import CLibPQ

/// Accumulates single-row-mode results into a ``PGRowSet`` while enforcing the row and byte caps.
///
/// Works on `PGresult*` values owned by the caller (which clears them); copies every cell into Swift strings.
struct PGResultReader {
    /// Maximum rows to keep.
    let rowLimit: Int
    /// Maximum bytes of cell text to keep.
    let byteLimit: Int
    /// Whether the last column is the size marker of a ``BoundedSelect`` (stripped from what is kept).
    let hasSizeMarker: Bool

    /// Column metadata, captured from the first result that carries it.
    private(set) var columns: [PGColumn] = []
    /// Rows kept so far.
    private(set) var rows: [[String?]] = []
    /// Bytes of cell text kept so far.
    private(set) var byteCount = 0
    /// Set once a row did not fit; from then on the caller cancels and drains.
    private(set) var truncated = false
    /// The first row the server marked as not fitting.
    private(set) var oversize: PGOversizeRow?

    /// Creates a reader with the given caps (negative caps count as zero).
    init(rowLimit: Int, byteLimit: Int, hasSizeMarker: Bool = false) {
        self.rowLimit = max(0, rowLimit)
        self.byteLimit = max(0, byteLimit)
        self.hasSizeMarker = hasSizeMarker
    }

    /// The rows read so far.
    var rowSet: PGRowSet {
        let shown = hasSizeMarker ? Array(columns.dropLast()) : columns
        return PGRowSet(columns: shown, rows: rows, truncated: truncated, byteCount: byteCount, oversize: oversize)
    }

    /// Records the column metadata of `result` (a SINGLE_TUPLE or TUPLES_OK result) if not yet known.
    mutating func captureColumns(_ result: OpaquePointer) {
        guard columns.isEmpty else { return }
        let count = PQnfields(result)
        guard count > 0 else { return }
        columns = (0..<count).map { index in
            let name = PQfname(result, index).map { String(cString: $0) } ?? ""
            return PGColumn(name: name, typeOID: UInt32(PQftype(result, index)))
        }
    }

    /// Adds the one row of a SINGLE_TUPLE result; returns false (and sets `truncated`) when it does not fit.
    mutating func add(_ result: OpaquePointer) -> Bool {
        captureColumns(result)
        // The extra row is what proves there is more data: exactly `rowLimit` rows is not a truncation.
        guard rows.count < rowLimit else {
            truncated = true
            return false
        }
        let all = PQnfields(result)
        // The marker is non-NULL exactly on rows the server withheld (their cells are NULL): stop before them.
        if hasSizeMarker, all > 0, PQgetisnull(result, 0, all - 1) == 0, let text = PQgetvalue(result, 0, all - 1) {
            truncated = true
            let length = Int(PQgetlength(result, 0, all - 1))
            let marker = String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
            oversize = PGOversizeRow(index: rows.count, marker: marker) 
                ?? PGOversizeRow(index: rows.count, rowBytes: 0, columnBytes: [])
            return false
        }
        let count = hasSizeMarker ? max(0, all - 1) : all
        var size = 0
        for column in 0..<count where PQgetisnull(result, 0, column) == 0 {
            size += Int(PQgetlength(result, 0, column))
        }
        guard byteCount + size <= byteLimit else {
            truncated = true
            return false
        }
        var row: [String?] = []
        row.reserveCapacity(Int(count))
        for column in 0..<count {
            if PQgetisnull(result, 0, column) != 0 {
                row.append(nil)
            } else if let value = PQgetvalue(result, 0, column) {
                let length = Int(PQgetlength(result, 0, column))
                row.append(String(decoding: UnsafeRawBufferPointer(start: value, count: length), as: UTF8.self))
            } else {
                row.append("")
            }
        }
        rows.append(row)
        byteCount += size
        return true
    }
}
