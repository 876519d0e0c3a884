// SPDX-License-Identifier: Apache-2.0

import Foundation
import XCTest

/// A Python HTTP(S) server on 127.0.0.1 with the endpoints the curl driver tests need.
///
/// Started with `python3 -c`; it prints its port on stdout, read here by a blocking read on a background thread
/// (never `Process.waitUntilExit`, which hangs under XCTest here). Stopped with SIGTERM.
final class CurlTestServer: @unchecked Sendable {
    /// The `python3` child.
    let process = Process()
    /// The port the server listens on (127.0.0.1).
    let port: Int

    /// Starts the server; `tlsDirectory` switches to HTTPS with client certificates required (the script creates
    /// `ca.pem`, `server.pem`/`.key` and `client.pem`/`.key` there with openssl first).
    init(tlsDirectory: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script] + (tlsDirectory.map { ["tls", $0] } ?? [])
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        let handle = stdout.fileHandleForReading
        let line = LineBox()
        let done = DispatchSemaphore(value: 0)
        Thread {
            var bytes: [UInt8] = []
            var byte: UInt8 = 0
            while read(handle.fileDescriptor, &byte, 1) == 1, byte != 10 { bytes.append(byte) }
            line.set(String(decoding: bytes, as: UTF8.self))
            done.signal()
        }.start()
        guard done.wait(timeout: .now() + 30) == .success, let port = Int(line.get()) else {
            kill(process.processIdentifier, SIGKILL)
            throw ServerDidNotStart()
        }
        self.port = port
    }

    /// `http(s)://127.0.0.1:<port><path>`.
    func url(_ path: String, scheme: String = "http") -> String { "\(scheme)://127.0.0.1:\(port)\(path)" }

    /// Sends SIGTERM to the server.
    func stop() { kill(process.processIdentifier, SIGTERM) }

    /// The server printed no port within 30 s.
    struct ServerDidNotStart: Error {}

    private final class LineBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value = ""
        func set(_ text: String) { lock.withLock { value = text } }
        func get() -> String { lock.withLock { value } }
    }

    static let script = #"""
import gzip, http.server, json, os, ssl, subprocess, sys, time

BOMB = gzip.compress(b"\0" * 10_485_760)
SMALL = gzip.compress(json.dumps({"compressed": True, "fill": "z" * 5000}).encode())

SEEN = []          # every request target, in order (GET /seen lists them; proxy tests)
TOKENS = [0]       # tokens issued by POST /token

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def reply(self, code, body, ctype="application/json", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra: self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(body)
    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        if path != "/seen":
            SEEN.append(self.path)
        if path == "/seen":
            self.reply(200, json.dumps({"targets": SEEN}).encode())
        elif path == "/token":
            # An OAuth token endpoint whose expires_in is the raw JSON text of ?expires= ("absent" leaves it out).
            import urllib.parse
            TOKENS[0] += 1
            raw = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query).get("expires", ["absent"])[0]
            member = "" if raw == "absent" else ', "expires_in": ' + raw
            self.reply(200, ('{"access_token": "tok-%d", "token_type": "Bearer"%s}' % (TOKENS[0], member)).encode())
        elif path == "/token-count":
            self.reply(200, json.dumps({"issued": TOKENS[0]}).encode())
        elif path == "/early-hints":
            self.send_response_only(103)
            self.send_header("Link", "</style.css>; rel=preload")
            self.end_headers()
            self.reply(200, b'{"final":true}')
        elif path == "/ok":
            self.reply(200, b'{"ok":true}', extra=[("X-Dup", "one"), ("X-Dup", "two")])
        elif path == "/pretty":
            self.reply(200, json.dumps({"name": "Zürich ✓", "tags": ["a b", "c"], "n": 1.50, "nested": {"x": None}}, indent=2, ensure_ascii=False).encode())
        elif path == "/array":
            self.reply(200, b'[1, 2, {"a": "b"}]')
        elif path == "/truncated":
            self.reply(200, b'{"a": [1, 2')
        elif path == "/bad-utf8":
            self.reply(200, b'{"a": "\xff"}')
        elif path == "/long":
            self.reply(200, json.dumps({"rows": ["\u00e9" * 50 for _ in range(200)]}, ensure_ascii=False).encode())
        elif path == "/gzip-bomb":
            self.reply(200, BOMB, extra=[("Content-Encoding", "gzip")])
        elif path == "/gzip":
            self.reply(200, SMALL, extra=[("Content-Encoding", "gzip")])
        elif path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"x" * 10); self.wfile.flush(); time.sleep(1)
            except Exception:
                pass
        elif path == "/hang":
            time.sleep(30)
            self.reply(200, b"{}")
        elif path == "/redirect":
            self.reply(302, b"", extra=[("Location", "http://169.254.169.254/")])
        elif path == "/big":
            self.reply(200, b"a" * (2 << 20), ctype="application/octet-stream")
        elif path == "/echo" or path.startswith("/echo/"):
            self.reply(200, json.dumps({
                "method": self.command, "path": self.path, "peerPort": self.client_address[1],
                "headers": [[k, v] for k, v in self.headers.items()], "body": body.decode("latin-1"),
            }).encode())
        else:
            self.reply(404, b'{"error":"not found"}')
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

server = Server(("127.0.0.1", 0), Handler)
if len(sys.argv) > 2 and sys.argv[1] == "tls":
    d = sys.argv[2]
    def run(*args): subprocess.run(args, cwd=d, check=True, capture_output=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test-ca")
    with open(os.path.join(d, "san.ext"), "w") as f: f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        run("openssl", "req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name)
        run("openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", "san.ext")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
    ctx.load_verify_locations(os.path.join(d, "ca.pem"))
    ctx.verify_mode = ssl.CERT_REQUIRED
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"""#
}
