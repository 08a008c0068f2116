import ArgumentParser
import CRMAPI
import CRMApp
import CRMDomain
import CRMServices
import Foundation
import PostgresClient

/// `crm groups create`: an OEM group (the top of the tenancy tree).
struct Groups: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage OEM groups.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an OEM group and print its id.")
        @Option(help: "The group's name.") var name: String

        func run() async throws {
            let configuration = Bootstrap.configuration()
            let logger = Bootstrap.logger(configuration)
            let pool = Bootstrap.commandPool(configuration, logger: logger, name: "groups")
            defer { pool.shutdownNow() }
            let group = try await Bootstrap.services(pool: pool, logger: logger, configuration: configuration).access.createGroup(name: name)
            print(group.id.lowercasedText)
        }
    }
}

/// `crm dealers create`: a dealer in a group.
struct Dealers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage dealers.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a dealer in a group and print its id.")
        @Option(help: "The OEM group's id.") var group: String
        @Option(help: "The dealer's name.") var name: String
        @Option(help: "Brands sold (repeatable).") var brand: [String] = []
        @Option(help: "Region.") var region: String?
        @Option(help: "IANA time zone.") var timeZone = DealerFields.defaultTimeZone

        func run() async throws {
            guard let groupID = UUID(uuidString: group) else { throw ValidationError("--group must be a UUID") }
            let configuration = Bootstrap.configuration()
            let logger = Bootstrap.logger(configuration)
            let pool = Bootstrap.commandPool(configuration, logger: logger, name: "dealers")
            defer { pool.shutdownNow() }
            let fields = DealerFields(name: name, brands: brand, region: region, timeZone: timeZone, settings: DealerSettings())
            let dealer = try await Bootstrap.services(pool: pool, logger: logger, configuration: configuration).access.createDealer(
                fields, groupID: groupID, by: nil)
            print(dealer.id.lowercasedText)
        }
    }
}

/// `crm keys create`: the first key of a group or dealer (later keys come through the API).
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage API keys.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key and print its secret (shown this once).",
            discussion: "Exactly one of --group and --dealer. A group key reads across the group's dealers.")
        @Option(help: "An OEM group's id: a group key.") var group: String?
        @Option(help: "A dealer's id: a dealer key.") var dealer: String?
        @Option(help: "Role: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: String
        @Option(help: "A name to recognise the key by.") var name = "bootstrap"

        func validate() throws {
            guard (group == nil) != (dealer == nil) else { throw ValidationError("give exactly one of --group and --dealer") }
            guard Role(rawValue: role) != nil else { throw ValidationError("--role must be one of \(Role.allCases.map(\.rawValue))") }
        }

        func run() async throws {
            let configuration = Bootstrap.configuration()
            let logger = Bootstrap.logger(configuration)
            let pool = Bootstrap.commandPool(configuration, logger: logger, name: "keys")
            defer { pool.shutdownNow() }
            let access = Bootstrap.services(pool: pool, logger: logger, configuration: configuration).access
            let role = Role(rawValue: role) ?? .readonly
            let groupID: UUID
            var dealerID: UUID?
            if let dealer {
                guard let id = UUID(uuidString: dealer) else { throw ValidationError("--dealer must be a UUID") }
                guard let found = try await access.dealer(id, in: pool) else { throw ValidationError("no dealer \(dealer)") }
                groupID = found.groupID
                dealerID = id
            } else {
                guard let group, let id = UUID(uuidString: group) else { throw ValidationError("--group must be a UUID") }
                groupID = id
            }
            let (_, secret) = try await access.issueKey(
                groupID: groupID, dealerID: dealerID, role: role, name: name, staffID: nil, expiresAt: nil, createdBy: nil)
            print(secret)
        }
    }
}
