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

    /// Column metadata, captured from the first result that carries it.
    private(set) var columns: [PGColumn] = []
    /// Rows kept so far.
    private(set) var rows: [[String?]] = []
    /// Bytes of cell text kept so far.
    private(set) var byteCount = 0
    /// Set once a row did not fit; from then on the caller cancels and drains.
    private(set) var truncated = false

    /// Creates a reader with the given caps (negative caps count as zero).
    init(rowLimit: Int, byteLimit: Int) {
        self.rowLimit = max(0, rowLimit)
        self.byteLimit = max(0, byteLimit)
    }

    /// The rows read so far.
    var rowSet: PGRowSet {
        PGRowSet(columns: columns, rows: rows, truncated: truncated, byteCount: byteCount)
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
        let count = PQnfields(result)
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
