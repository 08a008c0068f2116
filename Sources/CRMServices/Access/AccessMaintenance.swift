public import Logging
public import PostgresClient
public import ServiceLifecycle

/// Keeps the key cache honest and key usage recorded, as a ServiceLifecycle service:
/// a revocation or a staff member's deactivation announced on `crm_api_keys` (by any process)
/// drops the cached keys at once; so does the listener's reconnection (what was announced while
/// it was away is lost, so everything is read again); "last used" times are written in batches
/// every `flushInterval` and at shutdown.
public struct AccessMaintenance: Service {
    let access: AccessService
    let listener: PostgresListener
    let flushInterval: Duration
    let logger: Logger

    public init(access: AccessService, listener: PostgresListener, flushInterval: Duration = .seconds(15), logger: Logger) {
        self.access = access
        self.listener = listener
        self.flushInterval = flushInterval
        self.logger = logger
    }

    public func run() async throws {
        let revocations = try listener.notifications(on: AccessService.keyChangesChannel)
        let access = self.access
        let interval = flushInterval
        try? await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await notification in revocations {
                        access.invalidateKeys()
                        if notification.resynchronise { access.invalidateDealers() }
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        await access.flushKeyUsage()
                    }
                }
                await group.waitForAll()
            }
        }
        await access.flushKeyUsage()
    }
}
