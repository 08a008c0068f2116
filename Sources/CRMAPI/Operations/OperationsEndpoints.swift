import CRMContract
import CRMServices
import Foundation
import OpenAPIRuntime

/// Liveness, readiness, metrics and the contract.
extension APIHandler {
    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: .ok))))
    }

    /// Ready when a connection can be had and every bundled migration is applied; the check is
    /// bounded by the pool's acquire timeout, so a hung database gives a prompt 503, not a hung
    /// probe.
    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        switch await operations.readiness() {
        case .ready(let version): return .ok(.init(body: .json(.init(status: .ready, schemaVersion: version))))
        case .notReady(let reason): throw Problem.serviceUnavailable(reason)
        }
    }

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        operations.publishMetrics()
        return .ok(.init(body: .plainText(HTTPBody(PrometheusExporter.render()))))
    }

    func getContract(_ input: Operations.GetContract.Input) async throws -> Operations.GetContract.Output {
        .ok(.init(body: .yaml(HTTPBody(contract))))
    }
}

/// The contract for people.
extension APIHandler {
    func getDocs(_ input: Operations.GetDocs.Input) async throws -> Operations.GetDocs.Output {
        .ok(.init(body: .html(HTTPBody(docs.html))))
    }

    func getDocsAsset(_ input: Operations.GetDocsAsset.Input) async throws -> Operations.GetDocsAsset.Output {
        guard DocsPage.isAssetName(input.path.file), let asset = docs.assets[input.path.file] else {
            throw Problem.notFound("no such documentation file")
        }
        let body = HTTPBody(asset.bytes)
        switch asset.kind {
        case .javascript: return .ok(.init(body: .textJavascript(body)))
        case .css: return .ok(.init(body: .textCss(body)))
        case .png: return .ok(.init(body: .png(body)))
        }
    }
}
