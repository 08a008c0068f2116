import CRMContract
import CRMDomain
import CRMServices
import Foundation

extension Components.Schemas.Complaint {
    init(_ view: ComplaintView) throws {
        let c = view.complaint
        let f = c.fields
        self.init(
            id: Output.id(c.id), dealerId: Output.id(c.dealerID), number: c.number, customerId: Output.id(f.customerID),
            vehicleId: f.vehicleID.map(Output.id), serviceVisitId: f.serviceVisitID.map(Output.id), leadId: f.leadID.map(Output.id),
            channel: try Input.convert(f.channel), category: try Input.convert(f.category), severity: try Input.convert(f.severity),
            safetyRelated: f.safetyRelated, mediaRisk: f.mediaRisk, description: f.description, customerRequest: f.customerRequest,
            status: try Input.convert(c.status),
            allowedTransitions: try ComplaintRules.allowedMoves(from: c.status).map { try Input.convert($0) },
            ownerId: c.ownerID.map(Output.id), escalationLevel: try Self.level(c.escalation), reopenCount: c.reopenCount,
            slaBusinessHours: c.clock.businessHours, acknowledge: .init(view.acknowledge), resolve: .init(view.resolve),
            acknowledgedAt: c.clock.acknowledgedAt,
            resolution: try c.resolution.map {
                .init(
                    rootCause: $0.rootCause, remedy: try Input.convert($0.remedy),
                    cost: $0.cost.map { .init(amount: $0.amountMinor, currency: $0.currency) }, customerAccepted: $0.customerAccepted,
                    note: $0.note, resolvedAt: c.clock.resolvedAt ?? c.updatedAt)
            },
            closedAt: c.closedAt, createdAt: c.createdAt, updatedAt: c.updatedAt, version: c.version)
    }

    static func level(_ level: EscalationLevel) throws -> Components.Schemas.EscalationLevel {
        guard let converted = Components.Schemas.EscalationLevel(rawValue: level.name) else {
            throw Input.EnumMismatch(value: level.name, type: "EscalationLevel")
        }
        return converted
    }
}

extension Components.Schemas.ComplaintClock {
    init(_ clock: ComplaintRules.ClockView) {
        self.init(
            dueAt: clock.dueAt, secondsLeft: clock.secondsLeft, countedSecondsLeft: clock.countedSecondsLeft, overdue: clock.overdue,
            paused: clock.paused, met: clock.met)
    }
}

extension Components.Schemas.ComplaintEvent {
    init(_ event: ComplaintEvent) throws {
        let d = event.details
        self.init(
            id: Output.id(event.id), complaintId: Output.id(event.complaintID), kind: try Input.convert(event.kind),
            fromStatus: try event.fromStatus.map { try Input.convert($0) }, toStatus: try event.toStatus.map { try Input.convert($0) },
            note: event.note,
            details: .init(
                severity: d["severity"], ownerId: d["owner_id"], reopenCount: d["reopen_count"], remedy: d["remedy"],
                customerAccepted: d["customer_accepted"], callbackId: d["callback_id"], dueDate: d["due_date"], clock: d["clock"],
                dueAt: d["due_at"], ordinal: d["ordinal"], level: d["level"], outcome: d["outcome"],
                callbackStatus: d["callback_status"]),
            actorKeyId: event.actor.keyID.map(Output.id), actorStaffId: event.actor.staffID.map(Output.id),
            actorRole: try event.actor.role.map { try Input.convert($0) }, requestId: event.actor.requestID, at: event.at)
    }
}

extension Components.Schemas.ComplaintInput {
    /// A stored complaint's editable fields, as the merge target of a PATCH (create-only members
    /// absent; the contract's `ComplaintPatch` refuses them).
    init(_ f: ComplaintFields) throws {
        self.init(
            customerId: Output.id(f.customerID), vehicleId: f.vehicleID.map(Output.id), serviceVisitId: f.serviceVisitID.map(Output.id),
            leadId: f.leadID.map(Output.id), channel: try Input.convert(f.channel), category: try Input.convert(f.category),
            severity: try Input.convert(f.severity), safetyRelated: f.safetyRelated, mediaRisk: f.mediaRisk,
            description: f.description, customerRequest: f.customerRequest)
    }

    var fields: ComplaintFields {
        get throws {
            ComplaintFields(
                customerID: try Input.id(customerId, field: "customer_id"), vehicleID: try Input.id(vehicleId, field: "vehicle_id"),
                serviceVisitID: try Input.id(serviceVisitId, field: "service_visit_id"), leadID: try Input.id(leadId, field: "lead_id"),
                channel: try Input.convert(channel), category: try Input.convert(category), severity: try Input.convert(severity),
                safetyRelated: safetyRelated ?? false, mediaRisk: mediaRisk ?? false, description: description,
                customerRequest: customerRequest)
        }
    }
}

extension Components.Schemas.Callback {
    init(_ c: Callback) throws {
        self.init(
            id: Output.id(c.id), dealerId: Output.id(c.dealerID), customerId: Output.id(c.customerID),
            purpose: try Input.convert(c.purpose), complaintId: c.complaintID.map(Output.id), leadId: c.leadID.map(Output.id),
            serviceVisitId: c.serviceVisitID.map(Output.id), dueDate: c.dueDate.description, windowStartsAt: c.windowStartsAt,
            windowEndsAt: c.windowEndsAt, assigneeId: c.assigneeID.map(Output.id), servedById: c.servedByID.map(Output.id),
            status: try Input.convert(c.status), attempts: c.attempts, completedAt: c.completedAt, createdAt: c.createdAt,
            updatedAt: c.updatedAt, version: c.version)
    }
}

extension Components.Schemas.SurveyFlag {
    init(_ flag: CRMDomain.SurveyFlag) throws {
        self.init(kind: try Input.convert(flag.kind), explanation: flag.explanation)
    }
}

extension Components.Schemas.CallbackDetail {
    init(_ detail: CallbackDetail) throws {
        self.init(
            callback: try .init(detail.callback),
            attempts: try detail.attempts.map {
                .init(
                    id: Output.id($0.id), outcome: try Input.convert($0.outcome), numberCalled: $0.numberCalled,
                    startedAt: $0.startedAt, endedAt: $0.endedAt, callerId: $0.callerID.map(Output.id), notes: $0.notes,
                    recordedAt: $0.recordedAt)
            },
            survey: try detail.survey.map { survey in
                let scores = survey.scores.sorted { $0.key < $1.key }
                return .init(
                    id: Output.id(survey.id), questionSetId: survey.questionSetID.map(Output.id),
                    scores: scores.map { .init(questionId: $0.key, score: $0.value) }, csi: survey.csi, nps: survey.nps,
                    comments: survey.comments, flags: try survey.flags.map(Components.Schemas.SurveyFlag.init),
                    recordedAt: survey.recordedAt)
            },
            questions: detail.questions.map { .init(id: $0.id, text: $0.text) }, questionSetId: detail.questionSetID.map(Output.id))
    }
}

extension Components.Schemas.SurveyQuestionSet {
    init(_ set: SurveyQuestionSet) throws {
        self.init(
            id: Output.id(set.id), dealerId: Output.id(set.dealerID), purpose: try Input.convert(set.purpose), name: set.name,
            questions: set.questions.map { .init(id: $0.id, text: $0.text) }, active: set.active, createdAt: set.createdAt)
    }
}

extension Components.Schemas.ComplaintReportRow {
    init(_ c: ComplaintReportCounts) {
        self.init(
            key: c.key, received: c.received, open: c.open, acknowledged: c.acknowledged, acknowledgedOnTime: c.acknowledgedOnTime,
            acknowledgedOnTimeRate: c.acknowledgedOnTimeRate, resolved: c.resolved, resolvedOnTime: c.resolvedOnTime,
            resolvedOnTimeRate: c.resolvedOnTimeRate, medianSecondsToAcknowledge: c.medianSecondsToAcknowledge,
            medianSecondsToResolve: c.medianSecondsToResolve, escalated: c.escalated, reopened: c.reopened,
            reopenedRate: c.reopenedRate, callbacksDue: c.callbacksDue, callbacksOnTime: c.callbacksOnTime,
            callbacksOnTimeRate: c.callbacksOnTimeRate, csiAverage: c.csiAverage, npsAnswers: c.npsAnswers, nps: c.nps)
    }
}

extension Components.Schemas.ComplaintPolicy {
    /// The dealer's policy as the contract spells it (the domain type's own JSON form).
    init(_ policy: ComplaintPolicy) throws {
        self = try JSONDecoder().decode(Self.self, from: JSONEncoder().encode(policy))
    }
}

extension ComplaintPolicy {
    /// A policy from the contract's form: members it leaves out keep their defaults.
    init(_ input: Components.Schemas.ComplaintPolicy) throws {
        self = try JSONDecoder().decode(Self.self, from: JSONEncoder().encode(input))
    }
}
