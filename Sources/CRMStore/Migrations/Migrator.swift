import Foundation
public import Logging
public import PostgresClient
import Crypto

/// One numbered schema change: `NNNN_name.sql`, shipped as a package resource.
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// SHA-256 of the SQL text: an applied migration whose file changed afterwards is refused.
    public var checksum: String {
        SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The migrations bundled with the service, in version order.
    public static func bundled() throws -> [Migration] {
        guard let directory = Bundle.module.url(forResource: "SQL", withExtension: nil) else {
            throw MigrationError.resourcesMissing
        }
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        return try parse(files: files.filter { $0.pathExtension == "sql" })
    }

    static func parse(files: [URL]) throws -> [Migration] {
        var migrations: [Migration] = []
        for file in files {
            let base = file.deletingPathExtension().lastPathComponent
            let parts = base.split(separator: "_", maxSplits: 1)
            guard parts.count == 2, let version = Int(parts[0]), version > 0 else {
                throw MigrationError.badFileName(file.lastPathComponent)
            }
            let sql = try String(contentsOf: file, encoding: .utf8)
            migrations.append(Migration(version: version, name: String(parts[1]), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version {
            throw MigrationError.duplicateVersion(a.version)
        }
        return migrations
    }
}

public enum MigrationError: Error, CustomStringConvertible, Equatable {
    case resourcesMissing
    case badFileName(String)
    case duplicateVersion(Int)
    case checksumMismatch(version: Int, name: String)
    case unknownVersionApplied(Int)
    case failed(version: Int, name: String, reason: String)

    public var description: String {
        switch self {
        case .resourcesMissing: return "the migration files are missing from the service's resources"
        case .badFileName(let name): return "migration file '\(name)' is not named NNNN_name.sql"
        case .duplicateVersion(let version): return "two migration files have version \(version)"
        case .checksumMismatch(let version, let name):
            return "migration \(version) (\(name)) was changed after it was applied; add a new migration instead"
        case .unknownVersionApplied(let version):
            return "the database has migration \(version), which this build does not know (is the service too old?)"
        case .failed(let version, let name, let reason):
            return "migration \(version) (\(name)) failed and was rolled back: \(reason)"
        }
    }
}

/// What `migrate` did.
public struct MigrationReport: Sendable {
    public var applied: [Migration]
    public var currentVersion: Int
    public var latestVersion: Int
}

/// Applies migrations in order, each in its own transaction, recorded in `schema_migrations`.
/// A session-level advisory lock serialises concurrent migrators (two processes starting
/// together): the second waits, then finds nothing left to do.
public struct Migrator: Sendable {
    public let migrations: [Migration]
    let logger: Logger

    /// Key of the advisory lock held while migrating.
    static let lockKey: Int64 = 0x4352_4d5f_4d49_4752  // "CRM_MIGR"

    public init(migrations: [Migration], logger: Logger) {
        self.migrations = migrations
        self.logger = logger
    }

    public var latestVersion: Int { migrations.last?.version ?? 0 }

    @discardableResult
    public func migrate(on connection: PostgresConnection) async throws -> MigrationReport {
        _ = try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))")
        do {
            let report = try await migrateLocked(connection)
            _ = try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))")
            return report
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))")
            throw error
        }
    }

    private func migrateLocked(_ connection: PostgresConnection) async throws -> MigrationReport {
        try await connection.executeScript(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let applied = try await appliedVersions(connection)
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for (version, checksum) in applied {
            guard let migration = known[version] else { throw MigrationError.unknownVersionApplied(version) }
            guard migration.checksum == checksum else {
                throw MigrationError.checksumMismatch(version: version, name: migration.name)
            }
        }
        var done: [Migration] = []
        for migration in migrations where applied[migration.version] == nil {
            let started = ContinuousClock.now
            do {
                try await connection.withTransaction { transaction in
                    try await transaction.connection.executeScript(migration.sql)
                    try await transaction.execute(
                        """
                        INSERT INTO schema_migrations (version, name, checksum)
                        VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                        """)
                }
            } catch {
                throw MigrationError.failed(version: migration.version, name: migration.name, reason: "\(error)")
            }
            logger.info(
                "applied migration",
                metadata: [
                    "migration.version": "\(migration.version)", "migration.name": "\(migration.name)",
                    "duration": "\(ContinuousClock.now - started)",
                ])
            done.append(migration)
        }
        let current = try await currentVersion(on: connection)
        return MigrationReport(applied: done, currentVersion: current, latestVersion: latestVersion)
    }

    private func appliedVersions(_ connection: PostgresConnection) async throws -> [Int: String] {
        var result: [Int: String] = [:]
        for row in try await connection.query("SELECT version, checksum FROM schema_migrations") {
            result[try row.decode(0, as: Int.self)] = try row.decode(1, as: String.self)
        }
        return result
    }

    /// The highest applied version, 0 for an empty database.
    public func currentVersion(on queryable: some PostgresQueryable) async throws -> Int {
        let row = try await queryable.queryFirst(
            "SELECT coalesce(max(version), 0)::int8 FROM schema_migrations")
        return try row?.decode(0, as: Int.self) ?? 0
    }

    /// True when every bundled migration is applied (used by readiness).
    public func isCurrent(on queryable: some PostgresQueryable) async throws -> Bool {
        do {
            return try await currentVersion(on: queryable) == latestVersion
        } catch let error as PostgresError where error.code == .undefinedTable {
            return latestVersion == 0
        }
    }
}
