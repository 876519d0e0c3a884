// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
import Synchronization

/// Up to five label values: the key of one series in a ``MetricFamily``. A plain struct of strings, so a lookup
/// hashes a few short strings and allocates nothing (the label array is built once, when a series is created).
struct LabelValues: Hashable, Sendable {
    var v0 = "", v1 = "", v2 = "", v3 = "", v4 = ""

    init(_ v0: String = "", _ v1: String = "", _ v2: String = "", _ v3: String = "", _ v4: String = "") {
        (self.v0, self.v1, self.v2, self.v3, self.v4) = (v0, v1, v2, v3, v4)
    }

    /// The values in label order, paired with `names`.
    func pairs(_ names: [String]) -> [(String, String)] {
        let values = [v0, v1, v2, v3, v4]
        return zip(names, values).map { ($0, $1) }
    }
}

/// The series of one metric name, created on first use and then reused: the hot path pays one dictionary lookup
/// under an uncontended lock, never the factory's registry lock or a label array.
///
/// At most five label names (``LabelValues``). Callers pass only bounded label values (configured names, fixed enums); see ``MetricLabels``.
final class MetricFamily<Handle: AnyObject & Sendable>: Sendable {
    let name: String
    let labelNames: [String]
    private let make: @Sendable (_ name: String, _ labels: [(String, String)]) -> Handle
    private let series = Mutex<[LabelValues: Handle]>([:])

    init(name: String, labelNames: [String], make: @escaping @Sendable (_ name: String, _ labels: [(String, String)]) -> Handle) {
        self.name = name
        self.labelNames = labelNames
        self.make = make
    }

    /// The series for `values`, created on first use.
    func callAsFunction(_ values: LabelValues) -> Handle {
        if let hit = series.withLock({ $0[values] }) { return hit }
        // Created outside our lock (the factory takes its own); a racing creator gets the same registry series.
        let handle = make(name, values.pairs(labelNames))
        return series.withLock { s in
            if let existing = s[values] { return existing }
            s[values] = handle
            return handle
        }
    }

    /// Forgets one series and returns it, so the caller can destroy it in the factory.
    func remove(_ values: LabelValues) -> Handle? { series.withLock { $0.removeValue(forKey: values) } }

    /// The series created so far.
    var all: [(LabelValues, Handle)] { series.withLock { $0.map { ($0.key, $0.value) } } }
}

extension MetricFamily where Handle == CoreMetrics.Counter {
    static func counter(_ name: String, _ labels: [String], factory: any MetricsFactory) -> MetricFamily {
        MetricFamily(name: name, labelNames: labels) { CoreMetrics.Counter(label: $0, dimensions: $1, factory: factory) }
    }
}

extension MetricFamily where Handle == CoreMetrics.Gauge {
    static func gauge(_ name: String, _ labels: [String], factory: any MetricsFactory) -> MetricFamily {
        MetricFamily(name: name, labelNames: labels) { CoreMetrics.Gauge(label: $0, dimensions: $1, factory: factory) }
    }
}

extension MetricFamily where Handle == CoreMetrics.Timer {
    static func histogram(_ name: String, _ labels: [String], factory: any MetricsFactory) -> MetricFamily {
        MetricFamily(name: name, labelNames: labels) { CoreMetrics.Timer(label: $0, dimensions: $1, factory: factory) }
    }
}
