import CRMDomain
import CRMServices
import CRMStore
import Foundation

extension Components.Schemas.Lead {
    init(_ view: LeadView) throws {
        let lead = view.lead
        let f = lead.fields
        let missing = view.missingFields
        self.init(
            id: Output.id(lead.id), dealerId: Output.id(lead.dealerID), status: try Input.convert(lead.status),
            channel: try Input.convert(f.channel), temperature: try view.temperature.map { try Input.convert($0) },
            qualified: missing.isEmpty, missingFields: try missing.map { try Input.convert($0) }, overdue: view.isOverdue,
            inPool: lead.isInPool, surname: f.surname, name: f.name, phone: f.phone, companyName: f.companyName,
            currentBrand: f.currentBrand, currentModel: f.currentModel, interestBrand: f.interestBrand,
            interestSeries: f.interestSeries, interestModel: f.interestModel, campaign: f.campaign,
            referrerName: f.referrerName, notes: f.notes, gender: try f.gender.map { try Input.convert($0) },
            party: try f.party.map { try Input.convert($0) }, customerType: try f.customerType.map { try Input.convert($0) },
            competitorModels: f.competitorModels, intendedPurchaseDate: f.intendedPurchaseDate?.description,
            referrerCustomerId: f.referrerCustomerID.map(Output.id), tags: f.tags, consultantId: lead.consultantID.map(Output.id),
            assignedAt: lead.assignedAt, lastContactAt: lead.contact.lastContactAt,
            lastContactResult: lead.contact.lastContactResult, nextContactDate: lead.contact.nextContactDate?.description,
            nextContactAction: lead.contact.nextContactAction, customerId: lead.customerID.map(Output.id),
            loss: try lead.loss.map {
                .init(
                    reason: try Input.convert($0.reason), competitor: $0.competitor, note: $0.note, requestedAt: $0.requestedAt,
                    decision: try $0.decision.map { try Input.convert($0) }, decidedAt: $0.decidedAt,
                    decisionNote: $0.decisionNote)
            },
            lostAt: lead.lostAt,
            sale: lead.sale.map {
                .init(
                    vehicleId: Output.id($0.vehicleID), customerId: Output.id($0.customerID),
                    price: .init(amount: $0.priceMinor, currency: $0.currency), deliveryDate: $0.deliveryDate.description,
                    wonAt: $0.wonAt)
            },
            mergedInto: lead.mergedInto.map(Output.id), createdAt: lead.createdAt, updatedAt: lead.updatedAt,
            version: lead.version)
    }
}

extension Components.Schemas.FollowUp {
    init(_ followUp: LeadFollowUp) throws {
        self.init(
            id: Output.id(followUp.id), leadId: Output.id(followUp.leadID), contactedAt: followUp.contactedAt,
            channel: try Input.convert(followUp.channel), result: followUp.result, notes: followUp.notes,
            nextContactDate: followUp.nextContactDate?.description, nextContactAction: followUp.nextContactAction,
            staffId: followUp.staffID.map(Output.id), recordedAt: followUp.recordedAt)
    }
}

extension Components.Schemas.LeadAssignmentRecord {
    init(_ assignment: LeadAssignment) throws {
        self.init(
            id: Output.id(assignment.id), fromConsultantId: assignment.fromConsultantID.map(Output.id),
            toConsultantId: assignment.toConsultantID.map(Output.id), reason: try Input.convert(assignment.reason),
            at: assignment.at)
    }
}

extension Components.Schemas.LeadReportRow {
    init(_ row: LeadService.ReportRow) {
        let c = row.counts
        self.init(
            key: c.key, totalLeads: c.total, newLeads: c.new, consultants: c.consultants, leadsPerConsultant: row.leadsPerConsultant,
            qualified: c.qualified, qualifiedRate: row.qualifiedRate, hot: c.hot, hotShare: row.hotShare,
            consideringCompetitor: c.consideringCompetitor, competitorShare: row.competitorShare, won: c.won, lost: c.lost,
            newWon: c.newWon, conversionRate: row.conversionRate, overdue: c.overdue)
    }
}

/// The editable fields of a lead as the contract spells them (the create input's core and the
/// merge target of a PATCH). Enums and dates stay text here and are checked in `fields`, so a
/// bad value is a 422 naming the field.
struct LeadWritable: Codable {
    var surname: String?
    var name: String?
    var gender: String?
    var phone: String?
    var party: String?
    var companyName: String?
    var customerType: String?
    var currentBrand: String?
    var currentModel: String?
    var interestBrand: String?
    var interestSeries: String?
    var interestModel: String?
    var competitorModels: [String]?
    var intendedPurchaseDate: String?
    var channel: String
    var campaign: String?
    var referrerCustomerId: String?
    var referrerName: String?
    var notes: String?
    var tags: [String]?

    enum CodingKeys: String, CodingKey {
        case surname, name, gender, phone, party, channel, campaign, notes, tags
        case companyName = "company_name"
        case customerType = "customer_type"
        case currentBrand = "current_brand"
        case currentModel = "current_model"
        case interestBrand = "interest_brand"
        case interestSeries = "interest_series"
        case interestModel = "interest_model"
        case competitorModels = "competitor_models"
        case intendedPurchaseDate = "intended_purchase_date"
        case referrerCustomerId = "referrer_customer_id"
        case referrerName = "referrer_name"
    }

    init(_ f: LeadFields) {
        surname = f.surname
        name = f.name
        gender = f.gender?.rawValue
        phone = f.phone
        party = f.party?.rawValue
        companyName = f.companyName
        customerType = f.customerType?.rawValue
        currentBrand = f.currentBrand
        currentModel = f.currentModel
        interestBrand = f.interestBrand
        interestSeries = f.interestSeries
        interestModel = f.interestModel
        competitorModels = f.competitorModels
        intendedPurchaseDate = f.intendedPurchaseDate?.description
        channel = f.channel.rawValue
        campaign = f.campaign
        referrerCustomerId = f.referrerCustomerID.map(Output.id)
        referrerName = f.referrerName
        notes = f.notes
        tags = f.tags
    }

    init(_ input: Components.Schemas.LeadInput) {
        surname = input.surname
        name = input.name
        gender = input.gender?.rawValue
        phone = input.phone
        party = input.party?.rawValue
        companyName = input.companyName
        customerType = input.customerType?.rawValue
        currentBrand = input.currentBrand
        currentModel = input.currentModel
        interestBrand = input.interestBrand
        interestSeries = input.interestSeries
        interestModel = input.interestModel
        competitorModels = input.competitorModels
        intendedPurchaseDate = input.intendedPurchaseDate
        channel = input.channel.rawValue
        campaign = input.campaign
        referrerCustomerId = input.referrerCustomerId
        referrerName = input.referrerName
        notes = input.notes
        tags = input.tags
    }

    var fields: LeadFields {
        get throws {
            var errors: [Problem.FieldError] = []
            func parse<T: RawRepresentable>(_ text: String?, _ field: String, _ type: T.Type) -> T? where T.RawValue == String {
                guard let text else { return nil }
                guard let value = T(rawValue: text) else {
                    errors.append(.init(field: field, message: "is not one of the allowed values"))
                    return nil
                }
                return value
            }
            let gender = parse(gender, "gender", Gender.self)
            let party = parse(party, "party", LeadParty.self)
            let customerType = parse(customerType, "customer_type", LeadCustomerType.self)
            let channel = parse(channel, "channel", LeadChannel.self)
            var date: LocalDate?
            if let text = intendedPurchaseDate {
                date = LocalDate(text)
                if date == nil { errors.append(.init(field: "intended_purchase_date", message: "is not a date (YYYY-MM-DD)")) }
            }
            var referrer: UUID?
            if let text = referrerCustomerId {
                referrer = UUID(uuidString: text)
                if referrer == nil { errors.append(.init(field: "referrer_customer_id", message: "is not a UUID")) }
            }
            guard errors.isEmpty, let channel else { throw Problem.unprocessable(errors) }
            return LeadFields(
                surname: surname, name: name, gender: gender, phone: phone, party: party, companyName: companyName,
                customerType: customerType, currentBrand: currentBrand, currentModel: currentModel,
                interestBrand: interestBrand, interestSeries: interestSeries, interestModel: interestModel,
                competitorModels: competitorModels ?? [], intendedPurchaseDate: date, channel: channel, campaign: campaign,
                referrerCustomerID: referrer, referrerName: referrerName, notes: notes, tags: tags ?? [])
        }
    }
}
