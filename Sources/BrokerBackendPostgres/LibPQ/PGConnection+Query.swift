// SPDX-License-Identifier: Apache-2.0

import CLibPQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension PGConnection {
    /// One statement over the EXTENDED protocol always (PQsendQueryParams, even with zero parameters — the extended
    /// protocol refuses "COMMIT; DROP ..." multi-statement strings), text format, PQsetSingleRowMode; stops reading at
    /// rowLimit rows or byteLimit bytes of cell text, then PQcancel + drain so the connection stays usable; sets truncated.
    /// Task cancellation → PQcancel (thread-safe cancel handle) → PGError(.cancelled). SQLSTATE 57014 after our own timeout → .timeout.
    ///
    /// Inside a transaction block, a truncation cancel aborts the transaction (the rows read are still returned);
    /// the caller ends it with COMMIT/ROLLBACK as usual.
    ///
    /// With `sizeMarker`, the statement is a ``BoundedSelect`` whose last column marks the first row that does not
    /// fit: reading stops before it and the row set reports it as `oversize` (the marker column is not returned).
    func query(_ sql: String, parameters: [String?], rowLimit: Int, byteLimit: Int, sizeMarker: Bool = false) async throws(PGError) -> PGRowSet {
        let reader = PGResultReader(rowLimit: rowLimit, byteLimit: byteLimit, hasSizeMarker: sizeMarker)
        return try await run(sql, parameters: parameters, limits: reader).get()
    }

    /// A parameterless command (BEGIN READ ONLY, SET LOCAL statement_timeout = 1234, ROLLBACK, COMMIT), also extended protocol.
    func execute(_ sql: String) async throws(PGError) {
        _ = try await run(sql, parameters: [], limits: nil).get()
    }

    private func run(_ sql: String, parameters: [String?], limits: PGResultReader?) async -> Result<PGRowSet, PGError> {
        // libpq takes C strings: an embedded NUL would silently cut the text, so refuse it as PostgreSQL would.
        if sql.utf8.contains(0) || parameters.contains(where: { $0?.utf8.contains(0) == true }) {
            return .failure(PGError(.queryFailed, sqlState: "22021", serverMessage: "NUL byte in statement or parameter"))
        }
        let control = PGOperationControl(cancelQueue: cancelQueue, sendCancel: { [weak self] in self?.sendServerCancel() })
        return await withTaskCancellationHandler {
            await onQueue { conn in
                let result = self.runOnQueue(conn, sql: sql, parameters: parameters, limits: limits, control: control)
                control.finish()
                return result
            }
        } onCancel: {
            control.requestCancel()
        }
    }

    // Runs on `queue`: blocking libpq calls are fine here.
    private func runOnQueue(
        _ conn: OpaquePointer, sql: String, parameters: [String?], limits: PGResultReader?, control: PGOperationControl
    ) -> Result<PGRowSet, PGError> {
        if control.isCancelRequested { return .failure(PGError(.cancelled)) }
        guard send(conn, sql: sql, parameters: parameters) else {
            let message = String(cString: PQerrorMessage(conn))
            let kind: PGError.Kind = PQstatus(conn) == CONNECTION_BAD ? .connectionLost : .queryFailed
            return .failure(PGError(kind, serverMessage: message))
        }
        if limits != nil { _ = PQsetSingleRowMode(conn) }
        control.markSent()

        var reader = limits ?? PGResultReader(rowLimit: 0, byteLimit: 0)
        var failure: PGError?
        while let result = PQgetResult(conn) {
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            if status == PGRES_SINGLE_TUPLE {
                guard !reader.truncated, limits != nil else { continue }
                if !reader.add(result) {
                    // Stop the server producing rows nobody reads; the drain below then ends quickly with 57014.
                    sendServerCancel()
                }
            } else if status == PGRES_TUPLES_OK {
                if limits != nil { reader.captureColumns(result) }
            } else if status == PGRES_COMMAND_OK || status == PGRES_EMPTY_QUERY {
                continue
            } else if status == PGRES_COPY_OUT || status == PGRES_COPY_IN || status == PGRES_COPY_BOTH {
                abandonCopy(conn, status: status)
                failure = failure ?? PGError(.queryFailed, serverMessage: "COPY is not supported")
            } else if !reader.truncated, failure == nil {
                // A 57014 after our truncation cancel is expected and ignored (the guard above).
                failure = error(from: result, conn: conn, cancelledByUs: control.wasCancelSent)
            }
        }
        if let failure { return .failure(failure) }
        return .success(reader.rowSet)
    }

    /// PQsendQueryParams with text-format parameters (copied to C strings for the call).
    func send(_ conn: OpaquePointer, sql: String, parameters: [String?]) -> Bool {
        let copies = parameters.map { $0.flatMap { strdup($0) } }
        defer { copies.forEach { free($0) } }
        let values: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        let sent = values.withUnsafeBufferPointer { buffer in
            // resultFormat 0 = text; nil types/lengths/formats = server infers types, all parameters are text.
            PQsendQueryParams(conn, sql, Int32(values.count), nil, values.isEmpty ? nil : buffer.baseAddress, nil, nil, 0)
        }
        return sent == 1
    }

    func error(from result: OpaquePointer, conn: OpaquePointer, cancelledByUs: Bool) -> PGError {
        let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        // An error message can quote a value of any size (`invalid input syntax for type integer: "<100 MB>"`):
        // copy only a bounded prefix of it into Swift.
        let message = PQresultErrorMessage(result).map { Self.prefix(of: $0, maxBytes: 4096) }
        let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { Self.prefix(of: $0, maxBytes: 1024) }
        let kind = PGError.classifyStatementFailure(
            sqlState: sqlState, connectionBad: PQstatus(conn) == CONNECTION_BAD, cancelledByUs: cancelledByUs)
        var error = PGError(kind, sqlState: sqlState, serverMessage: message, primaryMessage: primary)
        error.oversizedReply = PQresultErrorMessage(result).map { strnlen($0, Self.oversizedReplyBytes) >= Self.oversizedReplyBytes } ?? false
        return error
    }

    /// An error reply this large retires its connection (see ``PGError/oversizedReply``).
    static let oversizedReplyBytes = 64 << 10

    /// At most `maxBytes` bytes of a C string, decoded leniently (a cut inside a UTF-8 sequence becomes U+FFFD).
    static func prefix(of text: UnsafePointer<CChar>, maxBytes: Int) -> String {
        let length = strnlen(text, maxBytes)
        return UnsafeRawPointer(text).withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    /// Ends a COPY sub-protocol so the connection returns to a normal state.
    private func abandonCopy(_ conn: OpaquePointer, status: ExecStatusType) {
        if status == PGRES_COPY_IN || status == PGRES_COPY_BOTH {
            _ = PQputCopyEnd(conn, "COPY is not supported by mcp-broker")
        }
        if status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
            var buffer: UnsafeMutablePointer<CChar>?
            while PQgetCopyData(conn, &buffer, 0) > 0 {
                PQfreemem(buffer)
                buffer = nil
            }
        }
    }
}
