// SPDX-License-Identifier: Apache-2.0

import BrokerCore

/// Where and how to connect (the password is a reference, resolved at each connect so rotation needs no restart).
struct PGConnectionSettings: Sendable {
    /// Server host name or address.
    var host: String
    /// Server TCP port.
    var port: Int
    /// Database name.
    var database: String
    /// Login role.
    var user: String
    /// Where the password lives; `nil` for password-less authentication.
    var password: SecretReference?
    /// libpq `sslmode` (disable, allow, prefer, require, verify-ca, verify-full).
    var sslMode: String = "prefer"
    /// Upper bound on the whole connection handshake (TCP, TLS, authentication, startup).
    var connectTimeout: Duration = .seconds(5)
    /// Reported to the server as `application_name` (visible in `pg_stat_activity`).
    var applicationName = "mcp-broker"

    /// Creates settings; the defaults match the brief (sslmode prefer, 5 s connect timeout).
    init(
        host: String, port: Int, database: String, user: String, password: SecretReference?,
        sslMode: String = "prefer", connectTimeout: Duration = .seconds(5), applicationName: String = "mcp-broker"
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
        self.sslMode = sslMode
        self.connectTimeout = connectTimeout
        self.applicationName = applicationName
    }
}

/// One result column: its name and the PostgreSQL type OID (for JSON mapping by the caller).
struct PGColumn: Sendable, Equatable {
    /// Column name as reported by the server.
    let name: String
    /// `pg_type` OID of the column.
    let typeOID: UInt32
}

/// Rows in libpq text format (NULL = nil), with caps applied while reading.
struct PGRowSet: Sendable {
    /// The result's columns, in order.
    var columns: [PGColumn]
    /// The rows read, each with one optional text cell per column.
    var rows: [[String?]]
    /// Whether the server had more rows than the row or byte cap allowed (the rest were not read).
    var truncated: Bool
    /// Total bytes of cell text in `rows`.
    var byteCount: Int
    /// The first row the server withheld because it did not fit the byte cap (see ``BoundedSelect``), if any.
    var oversize: PGOversizeRow? = nil
}

/// A row a bounded query withheld: its size and each column's, as the server measured them (text bytes).
struct PGOversizeRow: Sendable, Equatable {
    /// The row's 0-based position among the rows of this result (the rows before it were returned).
    let index: Int
    /// The row's own size (the sum of its columns).
    let rowBytes: Int
    /// Each column's size, in column order.
    let columnBytes: [Int]

    /// A withheld row with known sizes.
    init(index: Int, rowBytes: Int, columnBytes: [Int]) {
        self.index = index
        self.rowBytes = rowBytes
        self.columnBytes = columnBytes
    }

    /// Parses the marker `"<row>;<c1>,<c2>,…"`; nil when it is not one.
    init?(index: Int, marker: String) {
        let parts = marker.split(separator: ";", omittingEmptySubsequences: false)
        guard parts.count == 2, let row = Int(parts[0]) else { return nil }
        var columns: [Int] = []
        for item in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
            guard let bytes = Int(item) else { return nil }
            columns.append(bytes)
        }
        self.index = index
        self.rowBytes = row
        self.columnBytes = columns
    }
}
