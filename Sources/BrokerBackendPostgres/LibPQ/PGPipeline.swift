// SPDX-License-Identifier: Apache-2.0

/// Statements sent to the server together, in one libpq pipeline (one network round trip and one job on the
/// connection's queue), and read back in order. See ``PGConnection/pipeline(_:)``.
///
/// A `.sync` ends a segment. The server stops at the first error and skips the rest of *its* segment only
/// (libpq reports those steps as aborted), so a closing `ROLLBACK` placed after a `.sync` runs whatever happened
/// before it, and the session is back in a known state when the pipeline has been read.
struct PGPipeline: Sendable {
    /// One step of the pipeline.
    enum Step: Sendable {
        /// A parameterless command without rows (BEGIN, SET LOCAL, ROLLBACK), extended protocol.
        case command(String)
        /// The closing COMMIT of a write: its command tag must be `COMMIT` (PostgreSQL answers the COMMIT of an
        /// aborted transaction with `ROLLBACK`, which must not pass for a committed write).
        case commit(String)
        /// Parse into the unnamed statement and Describe it: the outcome's `columns`, without running it.
        case describe(String)
        /// The statement whose rows are read, with the pipeline's caps (at most one per pipeline).
        case query(String, parameters: [String?])
        /// A synchronisation point: ends a segment.
        case sync
    }

    /// What a pipeline read.
    struct Outcome: Sendable {
        /// The `.query` step's rows (empty without one).
        var rows: PGRowSet
        /// The `.describe` step's columns (nil without one).
        var columns: [PGColumn]?
    }

    /// The steps, in the order they are sent and read.
    var steps: [Step]
    /// Rows to read at most from the `.query` step.
    var rowLimit = 0
    /// Bytes of cell text to read at most from the `.query` step.
    var byteLimit = 0
    /// Whether the `.query` step is a ``BoundedSelect`` with a size-marker column.
    var sizeMarker = false

    /// Every SQL text and parameter of the pipeline (the NUL check before anything is sent).
    var texts: [String] {
        steps.flatMap { step -> [String] in
            switch step {
            case .command(let sql), .commit(let sql), .describe(let sql): return [sql]
            case .query(let sql, let parameters): return [sql] + parameters.compactMap { $0 }
            case .sync: return []
            }
        }
    }
}
