// SPDX-License-Identifier: Apache-2.0

import BrokerCore
import CLibPQ
import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension PGConnection {
    /// Non-blocking connect (PQconnectStartParams + PQconnectPoll + poll(2) on PQsocket) on the connection's own queue,
    /// bounded by settings.connectTimeout AND `deadline`: a server that accepts TCP but never finishes the handshake fails with .timeout.
    ///
    /// The password reference is resolved here, at every connect, so a rotated secret needs no restart.
    /// Task cancellation is noticed within ~50 ms and yields `.cancelled`.
    static func connect(_ settings: PGConnectionSettings, deadline: ContinuousClock.Instant) async throws(PGError) -> PGConnection {
        var password: String?
        if let reference = settings.password {
            do {
                password = try reference.resolve().withValue { $0 }
            } catch {
                // The resolution error names the reference (env var / file), never a value.
                throw PGError(.credentialUnavailable, serverMessage: error.description)
            }
        }
        let limit = min(deadline, ContinuousClock.now.advanced(by: settings.connectTimeout))
        let parameters = settings.libpqParameters(password: password)
        let queue = DispatchQueue(label: "mcp-broker.pg.connection")
        // The handshake polls this flag between poll(2) slices; there is no server-side cancel before startup.
        let control = PGOperationControl(cancelQueue: queue, sendCancel: {})
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<PGConnection, PGError>, Never>) in
                queue.async {
                    continuation.resume(returning: PGHandshake.run(parameters, until: limit, control: control, queue: queue))
                }
            }
        } onCancel: {
            control.requestCancel()
        }
        return try result.get()
    }
}

extension PGConnectionSettings {
    /// libpq keyword/value pairs: values are passed as separate C strings, so nothing in host, user or password can
    /// inject another keyword (no connection-string concatenation).
    func libpqParameters(password: String?) -> [(String, String)] {
        let parts = connectTimeout.components
        // libpq's connect_timeout is whole seconds (min 2); our own poll loop enforces the precise bound.
        let seconds = max(2, parts.seconds + (parts.attoseconds > 0 ? 1 : 0))
        var result: [(String, String)] = [
            ("host", host), ("port", String(port)), ("dbname", database), ("user", user),
            ("sslmode", sslMode), ("connect_timeout", String(seconds)), ("application_name", applicationName),
            ("client_encoding", "UTF8"),
        ]
        if let password { result.append(("password", password)) }
        return result
    }
}

/// The PQconnectPoll state machine driven with poll(2); runs on the new connection's queue.
enum PGHandshake {
    /// How long one poll(2) waits before re-checking cancellation and the deadline.
    private static let sliceMilliseconds: Int64 = 50

    /// Runs the handshake to completion, failure, timeout or cancellation; never leaks the `PGconn*`.
    static func run(
        _ parameters: [(String, String)], until limit: ContinuousClock.Instant, control: PGOperationControl,
        queue: DispatchQueue
    ) -> Result<PGConnection, PGError> {
        guard let conn = start(parameters) else {
            return .failure(PGError(.connectFailed, serverMessage: "PQconnectStartParams returned NULL (out of memory)"))
        }
        // VERBOSE puts the SQLSTATE into the handshake error text, the only place libpq reports it for a failed login.
        PQsetErrorVerbosity(conn, PQERRORS_VERBOSE)
        if PQstatus(conn) == CONNECTION_BAD {
            return .failure(fail(conn))
        }
        var status = PGRES_POLLING_WRITING
        while true {
            if status == PGRES_POLLING_OK {
                return .success(PGConnection(adopting: conn, queue: queue))
            }
            if status == PGRES_POLLING_FAILED {
                return .failure(fail(conn))
            }
            let events = Int16(status == PGRES_POLLING_READING ? POLLIN : POLLOUT)
            if let error = waitForSocket(conn, events: events, until: limit, control: control) {
                PQfinish(conn)
                return .failure(error)
            }
            status = PQconnectPoll(conn)
        }
    }

    private static func start(_ parameters: [(String, String)]) -> OpaquePointer? {
        let keys = parameters.map { strdup($0.0) }
        let values = parameters.map { strdup($0.1) }
        defer {
            keys.forEach { free($0) }
            // Wipe copies (the password among them) before handing the memory back.
            values.forEach { value in
                if let value { memset(value, 0, strlen(value)) }
                free(value)
            }
        }
        let keyPointers: [UnsafePointer<CChar>?] = keys.map { $0.map { UnsafePointer($0) } } + [nil]
        let valuePointers: [UnsafePointer<CChar>?] = values.map { $0.map { UnsafePointer($0) } } + [nil]
        return PQconnectStartParams(keyPointers, valuePointers, 0)
    }

    /// Waits until the socket is ready; returns an error on timeout, cancellation or a poll failure.
    private static func waitForSocket(
        _ conn: OpaquePointer, events: Int16, until limit: ContinuousClock.Instant, control: PGOperationControl
    ) -> PGError? {
        while true {
            if control.isCancelRequested { return PGError(.cancelled) }
            let remaining = ContinuousClock.now.duration(to: limit)
            if remaining <= .zero {
                return PGError(.timeout, serverMessage: "connection handshake did not finish within the connect timeout")
            }
            let remainingMs = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
            let slice = Int32(max(1, min(remainingMs, sliceMilliseconds)))
            let socket = PQsocket(conn)
            guard socket >= 0 else { return PGError(.connectFailed, serverMessage: "libpq reported no socket") }
            var descriptor = pollfd(fd: socket, events: events, revents: 0)
            let rc = poll(&descriptor, 1, slice)
            if rc > 0 { return nil }
            if rc < 0 && errno != EINTR {
                return PGError(.connectFailed, serverMessage: "poll(2) failed with errno \(errno)")
            }
        }
    }

    private static func fail(_ conn: OpaquePointer) -> PGError {
        let message = String(cString: PQerrorMessage(conn))
        PQfinish(conn)
        return PGError.classifyConnectFailure(message: message)
    }
}
