import CRMContract
import CRMDomain
import CRMServices
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
                    price: .init(amount: $0.price.amountMinor, currency: $0.price.currency), deliveryDate: $0.deliveryDate.description,
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
    init(_ row: LeadReportRates.Row) {
        let c = row.counts
        self.init(
            key: c.key, totalLeads: c.total, newLeads: c.new, duplicatesMerged: c.duplicatesMerged,
            shareOfNewLeads: row.shareOfNewLeads, consultants: c.consultants, leadsPerConsultant: row.leadsPerConsultant,
            qualified: c.qualified, qualifiedRate: row.qualifiedRate, hot: c.hot, hotShare: row.hotShare,
            consideringCompetitor: c.consideringCompetitor, competitorShare: row.competitorShare, won: c.won, lost: c.lost,
            newWon: c.newWon, conversionRate: row.conversionRate, overdue: c.overdue)
    }
}

extension Components.Schemas.LeadCompetitorShare {
    init(_ competitor: LeadReportRates.Competitor) {
        self.init(
            series: competitor.count.series, competitorModel: competitor.count.competitorModel,
            prospects: competitor.count.prospects, share: competitor.share)
    }
}

extension Components.Schemas.LeadInput {
    /// A stored lead's editable fields, as the merge target of a PATCH (create-only members
    /// absent; the contract's `LeadPatch` refuses them).
    init(_ f: LeadFields) throws {
        self.init(
            surname: f.surname, name: f.name, phone: f.phone, companyName: f.companyName, currentBrand: f.currentBrand,
            currentModel: f.currentModel, interestBrand: f.interestBrand, interestSeries: f.interestSeries,
            interestModel: f.interestModel, campaign: f.campaign, referrerName: f.referrerName, notes: f.notes,
            gender: try f.gender.map { try Input.convert($0) }, party: try f.party.map { try Input.convert($0) },
            customerType: try f.customerType.map { try Input.convert($0) }, competitorModels: f.competitorModels,
            intendedPurchaseDate: f.intendedPurchaseDate?.description, channel: try Input.convert(f.channel),
            referrerCustomerId: f.referrerCustomerID.map(Output.id), tags: f.tags)
    }

    /// The lead's editable fields from the contract's input.
    var fields: LeadFields {
        get throws {
            LeadFields(
                surname: surname, name: name, gender: try gender.map { try Input.convert($0) }, phone: phone,
                party: try party.map { try Input.convert($0) }, companyName: companyName,
                customerType: try customerType.map { try Input.convert($0) }, currentBrand: currentBrand,
                currentModel: currentModel, interestBrand: interestBrand, interestSeries: interestSeries,
                interestModel: interestModel, competitorModels: competitorModels ?? [],
                intendedPurchaseDate: try Input.date(intendedPurchaseDate, field: "intended_purchase_date"),
                channel: try Input.convert(channel), campaign: campaign,
                referrerCustomerID: try Input.id(referrerCustomerId, field: "referrer_customer_id"), referrerName: referrerName,
                notes: notes, tags: tags ?? [])
        }
    }
}
