// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
import Crypto
import Foundation
import Synchronization

extension BrokerMetrics {
    /// `mcp_server_session_duration_seconds`: a session ended after living since `opened`.
    public func sessionEnded(_ session: Session, now: ContinuousClock.Instant = .now) {
        guard isEnabled else { return }
        sessionDuration(LabelValues(session.protocolVersion ?? "", session.transport.rawValue)).recordNanoseconds((now - session.opened).nanoseconds)
    }

    /// `mcp_broker_sessions_open{transport}`, read at scrape time from `count` (`nil` once the source is gone).
    public func watchSessions(_ transport: NetworkTransport, count: @escaping @Sendable () -> Int?) {
        guard isEnabled else { return }
        let gauge = sessionsOpen(LabelValues(transport.rawValue))
        onScrape("sessions/" + transport.rawValue) {
            guard let n = count() else {
                gauge.record(0)
                return false
            }
            gauge.record(n)
            return true
        }
    }

    /// `mcp_broker_http_refusals_total{status,reason}`; `reason` is one of the front door's fixed reasons.
    public func recordHTTPRefusal(status: Int, reason: String) {
        guard isEnabled else { return }
        httpRefusals(LabelValues(String(status), reason)).increment()
    }

    /// `mcp_broker_audit_write_failures_total`.
    public func recordAuditWriteFailure() {
        guard isEnabled else { return }
        auditWriteFailureCount.increment()
    }

    /// `mcp_broker_config_reloads_total{result}` and `mcp_broker_config_last_reload_failed`.
    public func recordReload(success: Bool) {
        guard isEnabled else { return }
        configReloads(LabelValues(success ? "success" : "failure")).increment()
        configLastReloadFailed.record(success ? 0 : 1)
    }

    /// Makes `hash` the only `mcp_broker_config_info` series (value 1); the previous hash's series is removed.
    public func setActiveConfig(hash: String) {
        guard isEnabled else { return }
        let previous: String? = activeConfigHash.withLock { active in
            defer { active = hash }
            return active
        }
        if let previous, previous != hash, let old = configInfo.remove(LabelValues(previous)) { old.destroy() }
        configInfo(LabelValues(hash)).record(1)
    }

    /// `mcp_broker_memory_watermark_bytes` (only when `server.limits.memory_watermark_mb` is set).
    public func setMemoryWatermark(bytes: Int) {
        guard isEnabled else { return }
        CoreMetrics.Gauge(label: MetricNames.memoryWatermark, factory: factory).record(bytes)
    }

    /// Pre-creates the reload series at zero, so dashboards and alerts see them before the first reload.
    func prepareReloadSeries() {
        for result in ["success", "failure"] { _ = configReloads(LabelValues(result)) }
    }
}
