// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
import Foundation
import Synchronization

/// The standard `process_*` metrics, read from /proc/self at scrape time (Linux; elsewhere they stay absent).
final class ProcessMetrics: Sendable {
    let resident: CoreMetrics.Gauge
    let cpu: CoreMetrics.FloatingPointCounter
    let start: CoreMetrics.Gauge
    let fds: CoreMetrics.Gauge
    /// A counter only goes up: the CPU time read at each scrape is added as the difference to the last reading.
    private let counted = Mutex<Double>(0)

    init(factory: any MetricsFactory) {
        resident = CoreMetrics.Gauge(label: MetricNames.processResidentMemory, factory: factory)
        cpu = CoreMetrics.FloatingPointCounter(label: MetricNames.processCPUSeconds, factory: factory)
        start = CoreMetrics.Gauge(label: MetricNames.processStartTime, factory: factory)
        fds = CoreMetrics.Gauge(label: MetricNames.processOpenFDs, factory: factory)
    }

    func register(in metrics: BrokerMetrics) {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let stat = Self.stat(), let boot = Self.bootTime(), ticks > 0 {
            start.record(boot + stat.startTicks / ticks)
        }
        metrics.onScrape("process") { [self] in
            let (cpu, resident, fds) = (self.cpu, self.resident, self.fds)
            if let stat = Self.stat(), ticks > 0 {
                let total = (stat.userTicks + stat.systemTicks) / ticks
                let delta = self.counted.withLock { last -> Double in
                    let d = max(0, total - last)
                    last = max(last, total)
                    return d
                }
                if delta > 0 { cpu.increment(by: delta) }
            }
            if let pages = Self.residentPages() { resident.record(pages * pageSize) }
            if let open = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") { fds.record(open.count) }
            return true
        }
    }

    /// utime, stime and starttime (clock ticks) from /proc/self/stat; fields counted after the `)` that ends the
    /// command name, which may itself contain spaces.
    static func stat() -> (userTicks: Double, systemTicks: Double, startTicks: Double)? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .ascii),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After ")": state is field 3 of stat(5), so field n is at index n - 3.
        guard fields.count > 19, let user = Double(fields[11]), let system = Double(fields[12]), let start = Double(fields[19]) else { return nil }
        return (user, system, start)
    }

    static func residentPages() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .ascii) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1 else { return nil }
        return Double(fields[1])
    }

    /// The boot time (`btime` in /proc/stat), seconds since the epoch.
    static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .ascii) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst("btime ".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
