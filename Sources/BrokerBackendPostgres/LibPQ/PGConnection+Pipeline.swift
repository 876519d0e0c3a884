// SPDX-License-Identifier: Apache-2.0

import CLibPQ

extension PGConnection {
    /// Sends every step of `pipeline` at once in libpq pipeline mode (one round trip, one job on the connection's
    /// queue, so no thread wake per statement) and reads the results in order.
    ///
    /// The same guarantees as ``query(_:parameters:rowLimit:byteLimit:sizeMarker:)``: extended protocol only, caps
    /// while reading (single-row mode, PQcancel + drain past a cap), task cancellation → PQcancel → `.cancelled`,
    /// SQLSTATE-based errors. The first failure is thrown; steps after it in its segment did not run.
    ///
    /// The connection is left idle and out of pipeline mode when every result was read. When they could not be
    /// (a broken session, a COPY, which pipeline mode cannot carry), it stays in pipeline mode, reports itself not
    /// OK (``isConnectionOK``) and the pool closes it.
    func pipeline(_ pipeline: PGPipeline) async throws(PGError) -> PGPipeline.Outcome {
        // libpq takes C strings: an embedded NUL would silently cut the text, so refuse it as PostgreSQL would.
        if pipeline.texts.contains(where: { $0.utf8.contains(0) }) {
            throw PGError(.queryFailed, sqlState: "22021", serverMessage: "NUL byte in statement or parameter")
        }
        let control = PGOperationControl(cancelQueue: cancelQueue, sendCancel: { [weak self] in self?.sendServerCancel() })
        let result = await withTaskCancellationHandler {
            await onQueue { conn in
                let result = self.pipelineOnQueue(conn, pipeline, control: control)
                control.finish()
                return result
            }
        } onCancel: {
            control.requestCancel()
        }
        return try result.get()
    }

    // Runs on `queue`: blocking libpq calls are fine here.
    private func pipelineOnQueue(_ conn: OpaquePointer, _ pipeline: PGPipeline, control: PGOperationControl) -> Result<PGPipeline.Outcome, PGError> {
        if control.isCancelRequested { return .failure(PGError(.cancelled)) }
        guard PQenterPipelineMode(conn) == 1 else { return .failure(sendFailure(conn)) }
        for step in pipeline.steps where !send(conn, step) {
            // Part of the pipeline is queued and cannot be read back reliably: the session is retired (it stays in
            // pipeline mode, so the pool sees it as not OK and closes it).
            var failure = sendFailure(conn)
            failure.kind = .connectionLost
            return .failure(failure)
        }
        // PQpipelineSync flushed everything (the connection is in blocking mode): the statements are on their way.
        control.markSent()

        var results = PGPipelineResults(
            reader: PGResultReader(rowLimit: pipeline.rowLimit, byteLimit: pipeline.byteLimit, hasSizeMarker: pipeline.sizeMarker),
            control: control)
        for step in pipeline.steps {
            results.read(step, conn: conn, connection: self)
            if results.lost { break }
        }
        if results.lost {
            return .failure(results.failure ?? PGError(.connectionLost, serverMessage: "pipeline results out of step"))
        }
        guard PQexitPipelineMode(conn) == 1 else {
            return .failure(results.failure ?? PGError(.connectionLost, serverMessage: "pipeline did not drain"))
        }
        if let failure = results.failure { return .failure(failure) }
        return .success(PGPipeline.Outcome(rows: results.reader.rowSet, columns: results.columns))
    }

    private func send(_ conn: OpaquePointer, _ step: PGPipeline.Step) -> Bool {
        switch step {
        case .command(let sql), .commit(let sql):
            return PQsendQueryParams(conn, sql, 0, nil, nil, nil, nil, 0) == 1
        case .describe(let sql):
            return PQsendPrepare(conn, "", sql, 0, nil) == 1 && PQsendDescribePrepared(conn, "") == 1
        case .query(let sql, let parameters):
            return send(conn, sql: sql, parameters: parameters)
        case .sync:
            return PQpipelineSync(conn) == 1
        }
    }
}
