import CoreMetrics
import Prometheus
import Synchronization

/// The process's Prometheus registry behind swift-metrics. Bootstrapped once per process
/// (swift-metrics allows one bootstrap); every app built in the process shares it.
/// Installs the Prometheus backend for swift-metrics. Call before creating anything that
/// records metrics (the pool, the queue): handles made earlier stay bound to the no-op backend.
public func bootstrapMetrics() {
    PrometheusExporter.bootstrapOnce()
}

public enum PrometheusExporter {
    static let registry = PrometheusCollectorRegistry()
    private static let bootstrapped = Mutex(false)

    public static func bootstrapOnce() {
        bootstrapped.withLock { done in
            guard !done else { return }
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.defaultDurationHistogramBuckets = [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                .seconds(2.5), .seconds(5), .seconds(10),
            ]
            MetricsSystem.bootstrap(factory)
            done = true
        }
    }

    /// The registry in the Prometheus text format.
    public static func render() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
