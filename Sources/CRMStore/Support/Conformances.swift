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

/// A row's microsecond timestamp as cursor text (exact, unlike a Double round trip).
enum CursorTime {
    static func text(_ date: Date) -> String { PostgresTimestamp.format(date) }
}
