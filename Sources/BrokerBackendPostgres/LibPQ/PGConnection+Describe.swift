// SPDX-License-Identifier: Apache-2.0

import CLibPQ

extension PGConnection {
    /// The result columns of `sql` without running it: Parse into the unnamed prepared statement, then Describe
    /// (extended protocol; parameter types are inferred, as for ``query(_:parameters:rowLimit:byteLimit:sizeMarker:)``).
    ///
    /// Parse analysis is where most mistakes in a query surface (unknown columns, type errors), so they come back
    /// from here as ordinary statement failures with their SQLSTATE. The unnamed statement is replaced by the next
    /// query on this connection; nothing outlives the call.
    func describe(_ sql: String) async throws(PGError) -> [PGColumn] {
        if sql.utf8.contains(0) {
            throw PGError(.queryFailed, sqlState: "22021", serverMessage: "NUL byte in statement")
        }
        let control = PGOperationControl(cancelQueue: cancelQueue, sendCancel: { [weak self] in self?.sendServerCancel() })
        let result = await withTaskCancellationHandler {
            await onQueue { conn in
                let result = self.describeOnQueue(conn, sql: sql, control: control)
                control.finish()
                return result
            }
        } onCancel: {
            control.requestCancel()
        }
        return try result.get()
    }

    // Runs on `queue`: blocking libpq calls are fine here.
    private func describeOnQueue(_ conn: OpaquePointer, sql: String, control: PGOperationControl) -> Result<[PGColumn], PGError> {
        if control.isCancelRequested { return .failure(PGError(.cancelled)) }
        guard PQsendPrepare(conn, "", sql, 0, nil) == 1 else { return .failure(sendFailure(conn)) }
        control.markSent()
        if let failure = drain(conn, control: control).failure { return .failure(failure) }
        guard PQsendDescribePrepared(conn, "") == 1 else { return .failure(sendFailure(conn)) }
        let described = drain(conn, control: control)
        if let failure = described.failure { return .failure(failure) }
        return .success(described.columns)
    }

    /// Reads every result of the current command: its first failure, and the columns of a Describe result.
    private func drain(_ conn: OpaquePointer, control: PGOperationControl) -> (failure: PGError?, columns: [PGColumn]) {
        var failure: PGError?
        var columns: [PGColumn] = []
        while let result = PQgetResult(conn) {
            defer { PQclear(result) }
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                if columns.isEmpty {
                    columns = (0..<PQnfields(result)).map { index in
                        PGColumn(name: PQfname(result, index).map { String(cString: $0) } ?? "", typeOID: UInt32(PQftype(result, index)))
                    }
                }
            } else if failure == nil {
                failure = error(from: result, conn: conn, cancelledByUs: control.wasCancelSent)
            }
        }
        return (failure, columns)
    }

    /// The error for a send that libpq refused (connection lost when the session broke).
    func sendFailure(_ conn: OpaquePointer) -> PGError {
        let message = PGConnection.prefix(of: PQerrorMessage(conn), maxBytes: 4096)
        return PGError(PQstatus(conn) == CONNECTION_BAD ? .connectionLost : .queryFailed, serverMessage: message)
    }
}
