import CRMAPI
import CRMApp
import Foundation
import Logging
import Synchronization

/// One log line per event on standard error, as text (`2026-11-23T08:00:00.123Z info crm: request
/// request_id=... http.status=200`) or as one JSON object per line for log shippers.
struct CRMLogHandler: LogHandler {
    let label: String
    let format: ServiceConfiguration.LogFormat
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    private static let output = Mutex(())

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let timestamp = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
        let line: String
        switch format {
        case .text:
            var text = "\(timestamp) \(event.level) \(label): \(event.message)"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(Self.text(value))" }
            line = text + "\n"
        case .json:
            var object: [String: Any] = ["ts": timestamp, "level": event.level.rawValue, "logger": label, "msg": "\(event.message)"]
            for (key, value) in merged { object[key] = Self.json(value) }
            if event.level >= .warning { object["source"] = "\(event.file):\(event.line)" }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self) + "\n"
        }
        Self.output.withLock { _ in
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    private static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): return string.contains(" ") ? "\"\(string)\"" : string
        case .stringConvertible(let convertible): return "\(convertible)"
        case .array(let array): return "[" + array.map(text).joined(separator: ",") + "]"
        case .dictionary(let dictionary):
            return "{" + dictionary.sorted { $0.key < $1.key }.map { "\($0.key)=\(text($0.value))" }.joined(separator: ",") + "}"
        }
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let string): return string
        case .stringConvertible(let convertible): return "\(convertible)"
        case .array(let array): return array.map(json)
        case .dictionary(let dictionary): return dictionary.mapValues(json)
        }
    }
}
