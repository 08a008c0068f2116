public import CRMDomain
import Foundation
public import PostgresClient

/// `date` columns as domain calendar dates.
extension LocalDate: PostgresEncodable, PostgresDecodable {
    public static var postgresType: PostgresType { .date }
    public var postgresText: String? { description }
    public static func decode(_ cell: PostgresCell) throws -> LocalDate {
        let date = try PostgresDate.decode(cell)
        guard let value = LocalDate(year: date.year, month: date.month, day: date.day) else {
            throw PostgresCell.Failure("date \(date) is outside 0001-9999")
        }
        return value
    }
}

/// Domain enums stored as their raw text.
public protocol StoredEnum: RawRepresentable, PostgresEncodable, PostgresDecodable where RawValue == String {}

extension StoredEnum {
    public var postgresText: String? { rawValue }
    public static func decode(_ cell: PostgresCell) throws -> Self {
        guard let value = Self(rawValue: cell.string) else {
            throw PostgresCell.Failure("'\(cell.string)' is not a \(Self.self)")
        }
        return value
    }
}

extension Role: StoredEnum {}
extension CustomerKind: StoredEnum {}
extension Gender: StoredEnum {}
extension IncomeBand: StoredEnum {}
extension MaritalStatus: StoredEnum {}
extension FleetCategory: StoredEnum {}
extension ConsentChannel: StoredEnum {}
extension ConsentStatus: StoredEnum {}
extension ConsentSource: StoredEnum {}
extension OdometerSource: StoredEnum {}
extension StaffFunction: StoredEnum {}
extension LeadChannel: StoredEnum {}
extension LeadStatus: StoredEnum {}
extension LeadCustomerType: StoredEnum {}
extension LeadParty: StoredEnum {}
extension FollowUpChannel: StoredEnum {}
extension LossReason: StoredEnum {}
extension LossDecision: StoredEnum {}
extension AssignmentReason: StoredEnum {}

extension PostgresJSON {
    /// A Codable value as jsonb, or SQL NULL for nil.
    static func optional(_ value: (some Encodable)?) throws -> PostgresJSON? {
        guard let value else { return nil }
        return try PostgresJSON(encoding: value)
    }
}

extension PostgresNamedRow {
    /// A jsonb column decoded as a Codable value (nil for SQL NULL).
    mutating func json<T: Decodable>(_ name: StaticString, as type: T.Type = T.self) throws -> T? {
        try self(name, as: PostgresJSON?.self)?.decode(T.self)
    }
}

public enum RepositoryError: Error, Sendable {
    /// An INSERT ... RETURNING returned nothing (cannot happen without a bug or a trigger).
    case noRowReturned
    /// A save of a row the caller locked found it at another version (cannot happen while the
    /// lock is held: a bug).
    case lostLock
}

/// A write would duplicate a record that must be unique (a customer's phone, a VIN, an open lead's
/// phone at a dealer). Found without raising a database error (`ON CONFLICT DO NOTHING`, or a
/// read before an update), so PostgreSQL's log never records the personal data in the key; the
/// unique index stays as the last line of defence. `existing` is the record in the way (nil when
/// it vanished in between).
public struct Duplicate<Record: Sendable>: Error, Sendable {
    public let existing: Record?

    public init(existing: Record?) { self.existing = existing }
}

extension PostgresQueryable {
    /// The one row a statement must return (an INSERT ... RETURNING, or an UPDATE ... RETURNING of
    /// a row the caller holds locked), decoded; `missing` when none came back.
    func one<T>(_ query: PostgresQuery, orElse missing: RepositoryError, _ decode: (inout PostgresNamedRow) throws -> T)
        async throws -> T
    {
        guard let value = try await self.query(query).first(named: decode) else { throw missing }
        return value
    }
}

/// Runs a save that may change a unique key after the repository checked it is free: a unique
/// violation from a concurrent writer in between (the index as the last line of defence) is the
/// same typed `Duplicate`.
func guardingUniqueness<T: Sendable>(_ save: () async throws -> T) async throws -> T {
    do {
        return try await save()
    } catch let error as PostgresError where error.kind == .uniqueViolation {
        throw Duplicate<T>(existing: nil)
    }
}

extension ComplaintChannel: StoredEnum {}
extension ComplaintCategory: StoredEnum {}
extension ComplaintSeverity: StoredEnum {}
extension ComplaintStatus: StoredEnum {}
extension ComplaintRemedy: StoredEnum {}
extension CallbackPurpose: StoredEnum {}
extension CallbackStatus: StoredEnum {}
extension CallOutcome: StoredEnum {}
extension ServiceVisitType: StoredEnum {}
extension ReminderKind: StoredEnum {}
extension ReminderStatus: StoredEnum {}
extension CallTaskOutcome: StoredEnum {}
extension CallTaskStatus: StoredEnum {}
