// SPDX-License-Identifier: Apache-2.0

import CLibPQ

/// Reads the results of a sent ``PGPipeline`` step by step, on the connection's queue.
///
/// libpq hands back each command's results followed by NULL (a command skipped after an error gives
/// `PGRES_PIPELINE_ABORTED`, then NULL) and each sync point as one `PGRES_PIPELINE_SYNC`. Anything else means the
/// results no longer match the steps: `lost` is set and the caller stops reading.
struct PGPipelineResults {
    /// The `.query` step's rows and caps.
    var reader: PGResultReader
    /// The `.describe` step's columns.
    var columns: [PGColumn]?
    /// The first failure (later steps of its segment did not run).
    var failure: PGError?
    /// The results can no longer be matched to the steps (broken session, COPY): stop reading, retire the session.
    var lost = false
    /// Whether we cancelled the query ourselves past a cap: a 57014 after that is its echo, not a failure of the call.
    private var truncationCancelSent = false
    private let control: PGOperationControl

    init(reader: PGResultReader, control: PGOperationControl) {
        self.reader = reader
        self.control = control
    }

    /// Reads the results of one step.
    mutating func read(_ step: PGPipeline.Step, conn: OpaquePointer, connection: PGConnection) {
        switch step {
        case .sync:
            readSync(conn, connection: connection)
        case .command:
            readCommand(conn, connection: connection, step: step)
        case .commit:
            readCommand(conn, connection: connection, step: step)
        case .describe:
            // Two commands went out: Parse (no columns), then Describe (the columns, possibly none).
            readCommand(conn, connection: connection, step: .command(""))
            if !lost { readCommand(conn, connection: connection, step: step) }
        case .query:
            // Single-row mode applies to the command at the head of the queue, which is this one now.
            _ = PQsetSingleRowMode(conn)
            readCommand(conn, connection: connection, step: step)
        }
        if !lost, PQstatus(conn) == CONNECTION_BAD {
            lost = true
            failure = failure ?? PGError(.connectionLost, serverMessage: PGConnection.prefix(of: PQerrorMessage(conn), maxBytes: 4096))
        }
    }

    private mutating func readSync(_ conn: OpaquePointer, connection: PGConnection) {
        guard let result = PQgetResult(conn) else {
            lost = true
            return
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status != PGRES_PIPELINE_SYNC else { return }
        lost = true
        if failure == nil, status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR || status == PGRES_BAD_RESPONSE {
            failure = connection.error(from: result, conn: conn, cancelledByUs: control.wasCancelSent)
        }
    }

    private mutating func readCommand(_ conn: OpaquePointer, connection: PGConnection, step: PGPipeline.Step) {
        while let result = PQgetResult(conn) {
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            if status == PGRES_SINGLE_TUPLE {
                guard case .query = step, !reader.truncated else { continue }
                if !reader.add(result) {
                    // Stop the server producing rows nobody reads; the statement then ends quickly with 57014.
                    truncationCancelSent = true
                    connection.sendServerCancel()
                }
            } else if status == PGRES_TUPLES_OK {
                if case .query = step { reader.captureColumns(result) }
            } else if status == PGRES_COMMAND_OK {
                accept(commandResult: result, step: step)
            } else if status == PGRES_EMPTY_QUERY || status == PGRES_PIPELINE_ABORTED {
                continue
            } else if status == PGRES_COPY_OUT || status == PGRES_COPY_IN || status == PGRES_COPY_BOTH {
                // Pipeline mode cannot carry COPY: stop here; the session stays in pipeline mode and is retired.
                failure = failure ?? PGError(.queryFailed, serverMessage: "COPY is not supported")
                lost = true
                return
            } else {
                record(errorResult: result, conn: conn, connection: connection, step: step)
            }
        }
    }

    private mutating func accept(commandResult result: OpaquePointer, step: PGPipeline.Step) {
        switch step {
        case .describe:
            columns = (0..<PQnfields(result)).map { index in
                PGColumn(name: PQfname(result, index).map { String(cString: $0) } ?? "", typeOID: UInt32(PQftype(result, index)))
            }
        case .commit:
            let tag = PQcmdStatus(result).map { String(cString: $0) } ?? ""
            if tag != "COMMIT", failure == nil {
                // The transaction had failed (a cancelled statement, say): nothing was written.
                failure = PGError(.queryFailed, sqlState: "40000", serverMessage: "COMMIT answered \(tag): the transaction was rolled back")
            }
        default:
            break
        }
    }

    private mutating func record(errorResult result: OpaquePointer, conn: OpaquePointer, connection: PGConnection, step: PGPipeline.Step) {
        guard failure == nil else { return }
        if case .query = step, reader.truncated { return }  // the 57014 our truncation cancel caused
        let error = connection.error(from: result, conn: conn, cancelledByUs: control.wasCancelSent)
        // Our truncation cancel can land on the closing ROLLBACK when the query had already ended: the rows read
        // stand, and the pool rolls back the transaction left open. A COMMIT that did not happen is never ignored.
        if truncationCancelSent, error.sqlState == "57014", case .command = step { return }
        failure = error
    }
}
