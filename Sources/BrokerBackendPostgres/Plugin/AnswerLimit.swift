// SPDX-License-Identifier: Apache-2.0

import BrokerCore

/// The refusal for a page whose first row cannot be shown within `limits.max_bytes`.
enum AnswerLimit {
    /// `Column big of row 1 is 100,000,000 bytes, over the 1,048,576-byte answer limit; select left(big, 1000) or
    /// octet_length(big) instead.` — or, when no single column is over, the row's total and its largest column.
    /// A caller fault: the caller chose what to select.
    static func refusal(_ oversize: PGOversizeRow?, columns: [PGColumn], row: Int, cap: Int, backend: String) -> BrokerError {
        let limit = "the \(grouped(cap))-byte answer limit"
        guard let oversize, let largest = oversize.columnBytes.indices.max(by: { oversize.columnBytes[$0] < oversize.columnBytes[$1] }),
            largest < columns.count
        else {
            return BrokerError(
                .invalidArguments, "Row \(grouped(row)) does not fit \(limit); select fewer or shorter columns (left(col, 1000), octet_length(col)).",
                backend: backend
            ).callerFault()
        }
        let name = PostgresErrors.sanitize(columns[largest].name)
        let column = name.isEmpty ? "?column?" : name
        let bytes = oversize.columnBytes[largest]
        let instead = "select left(\(column), 1000) or octet_length(\(column)) instead."
        let message =
            bytes > cap
            ? "Column \(column) of row \(grouped(row)) is \(grouped(bytes)) bytes, over \(limit); \(instead)"
            : "Row \(grouped(row)) is \(grouped(oversize.rowBytes)) bytes (largest column \(column): \(grouped(bytes)) bytes), over \(limit); "
                + "select fewer columns, or \(instead)"
        return BrokerError(.invalidArguments, message, backend: backend).callerFault()
    }

    /// `1048576` → `1,048,576`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return value < 0 ? "-" + out : out
    }
}
