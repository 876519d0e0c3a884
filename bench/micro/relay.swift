// SPDX-License-Identifier: Apache-2.0
// Micro-measurement of the 100 KB relay path (issue 17): EncodedJSON.validating (check + compact), the
// {"items":…} wrap, and CallToolResult.encode into the JSON-RPC envelope, on the document bench/bench.py serves.
// Prints ns per input byte; it asserts nothing. Build and run with bench/micro/relay.sh.
import MCPCore

#if canImport(Glibc)
import Glibc
#endif

func now() -> UInt64 {
    var ts = timespec()
    // Thread CPU time: on a shared machine wall time also counts the time other processes held the core.
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

func load(_ path: String) -> [UInt8] {
    guard let f = fopen(path, "rb") else { return [] }
    defer { fclose(f) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n <= 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}

/// `value` with `digits` decimals (no Foundation in this program).
func fixed(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (value * scale).rounded()
    guard scaled.isFinite, abs(scaled) < 1e15 else { return "\(value)" }
    let n = Int64(scaled), whole = n / Int64(scale), frac = n % Int64(scale)
    let fracText = String(frac)
    return "\(whole)." + String(repeating: "0", count: max(0, digits - fracText.count)) + fracText
}

/// Best of 25 rounds (the machine is shared: the minimum is the least disturbed), each `iterations` calls.
func measure(_ name: String, bytes: Int, iterations: Int, _ body: () -> Int) {
    var best = Double.infinity
    var sink = 0
    for _ in 0..<25 {
        let start = now()
        for _ in 0..<iterations { sink &+= body() }
        let ns = Double(now() - start) / Double(iterations)
        best = min(best, ns)
    }
    let perByte = best / Double(bytes)
    let padded = name + String(repeating: " ", count: max(1, 34 - name.count))
    print("\(padded)size \(bytes)  µs/call \(fixed(best / 1000, 1))  ns/byte \(fixed(perByte, 3))  (sink \(sink & 1))")
}

/// What RESTBackend.relay and MCPServer do per call: check, compact and wrap, then the result envelope.
func relayCall(_ doc: [UInt8]) -> Int {
    guard let s = try? EncodedJSON.validatingObject(doc, wrappingOthersIn: "items") else { return -1 }
    let content: [ContentBlock] = [.text(s.preview(limit: 4000))]
    let out = RPCEncoding.result(id: .int(7), capacity: CallToolResult.encodedSizeEstimate(content: content, structuredContent: s)) { out in
        CallToolResult.encode(content: content, structuredContent: s, into: &out)
    }
    return out.count
}

var args = CommandLine.arguments.dropFirst()
// `--calls=N file`: only N relay calls, untimed, for an instruction count under callgrind (the machine is shared,
// so wall time is noisy; instructions are not).
if let first = args.first, first.hasPrefix("--calls="), let calls = Int(first.dropFirst(8)) {
    args = args.dropFirst()
    var sink = 0
    for path in args {
        let doc = load(path)
        for _ in 0..<calls { sink &+= relayCall(doc) }
    }
    print("sink \(sink)")
    exit(0)
}
let iterations = 300
for path in args {
    let doc = load(path)
    let label = path.split(separator: "/").last.map(String.init) ?? path
    measure("validating \(label)", bytes: doc.count, iterations: iterations) {
        (try? EncodedJSON.validating(doc).bytes.count) ?? -1
    }
    guard let structured = try? EncodedJSON.validatingObject(doc, wrappingOthersIn: "items") else { print("invalid: \(path)"); continue }
    let preview = structured.preview(limit: 4000)
    measure("preview+encode \(label)", bytes: doc.count, iterations: iterations) {
        let text = structured.preview(limit: 4000)
        let content: [ContentBlock] = [.text(text)]
        let out = RPCEncoding.result(id: .int(7), capacity: CallToolResult.encodedSizeEstimate(content: content, structuredContent: structured)) { out in
            CallToolResult.encode(content: content, structuredContent: structured, into: &out)
        }
        return out.count
    }
    measure("relay total \(label)", bytes: doc.count, iterations: iterations) { relayCall(doc) }
    _ = preview
}
