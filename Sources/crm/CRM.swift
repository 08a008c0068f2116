import ArgumentParser

/// `crm`: the dealer CRM service's command line. Thin: every command builds what it needs with
/// the library targets' factories and runs it.
@main
struct CRM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crm",
        abstract: "CRM backend for car dealerships (4S stores) and their OEM groups.",
        subcommands: [Serve.self, Work.self, Migrate.self, Seed.self, Groups.self, Dealers.self, Keys.self])
}
