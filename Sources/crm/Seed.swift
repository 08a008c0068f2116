import ArgumentParser
import CRMAPI
import CRMApp
import CRMDomain
import CRMServices
import Foundation
import Logging
import PostgresClient

/// `crm seed --demo`: a demo OEM group with two dealers, their staff and keys, about a thousand
/// customers with Chinese names, mainland mobile numbers, vehicles with valid VINs, odometer
/// histories and consents, and leads across the eleven channels. Deterministic (seeded), and a no-op when the demo group
/// already exists.
struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load demo data.")

    @Flag(help: "Create the demo group, dealers, staff, keys and customers.") var demo = false
    @Option(help: "Customers per dealer.") var customers = 500
    @Option(help: "Leads per dealer.") var leads = 80
    @Option(help: "Write the created keys (role and secret, one per line) to this file.") var keysFile: String?

    static let demoGroupName = "华晨汽车销售集团 (demo)"

    func run() async throws {
        guard demo else { throw ValidationError("nothing to do: pass --demo") }
        let configuration = Bootstrap.configuration()
        let logger = Bootstrap.logger(configuration)
        let pool = Bootstrap.commandPool(configuration, logger: logger, name: "seed")
        defer { pool.shutdownNow() }
        if try await pool.queryFirst("SELECT 1 FROM oem_groups WHERE name = \(Self.demoGroupName)") != nil {
            print("demo data already present")
            return
        }
        let services = Bootstrap.services(pool: pool, logger: logger, configuration: configuration)
        var generator = SeededGenerator(seed: 20261123)
        let group = try await services.access.createGroup(name: Self.demoGroupName)
        let dealers = [
            DealerFields(name: "上海浦东宝马4S店", brands: ["BMW", "MINI"], region: "华东", timeZone: "Asia/Shanghai", settings: DealerSettings()),
            DealerFields(name: "广州天河丰田4S店", brands: ["Toyota"], region: "华南", timeZone: "Asia/Shanghai",
                         settings: DealerSettings(leadFollowUpDays: 5, leadAssignment: .roundRobin)),
        ]
        var keyLines: [String] = []
        let (_, groupKey) = try await services.access.issueKey(
            groupID: group.id, dealerID: nil, role: .admin, name: "demo group admin", staffID: nil, expiresAt: nil, createdBy: nil)
        keyLines.append("group admin\t\(groupKey)")
        for (index, fields) in dealers.enumerated() {
            let dealer = try await services.access.createDealer(fields, groupID: group.id, by: nil)
            let (adminRecord, admin) = try await services.access.issueKey(
                groupID: group.id, dealerID: dealer.id, role: .admin, name: "demo admin", staffID: nil, expiresAt: nil,
                createdBy: nil)
            keyLines.append("\(fields.name) admin\t\(admin)")
            let context = services.context(for: adminRecord.principal, requestID: "seed")
            var consultants: [StaffMember] = []
            var team: [StaffFunction: StaffMember] = [:]
            for (name, function) in [("李明", StaffFunction.sales), ("王芳", .sales), ("张伟", .sales), ("刘洋", .service), ("陈静", .crm), ("赵强", .manager)] {
                let member = try await services.staff.create(
                    StaffFields(name: name, function: function, phone: Demo.mobile(&generator), email: nil, active: true),
                    dealerID: nil, context: context)
                if function == .sales { consultants.append(member) }
                if team[function] == nil { team[function] = member }
            }
            if let first = consultants.first {
                let (_, sales) = try await services.access.issueKey(
                    groupID: group.id, dealerID: dealer.id, role: .sales, name: "demo consultant \(first.fields.name)",
                    staffID: first.id, expiresAt: nil, createdBy: nil)
                keyLines.append("\(fields.name) sales (\(first.fields.name))\t\(sales)")
            }
            let customers = try await seedCustomers(
                services, context: context, brands: fields.brands, dealerIndex: index, generator: &generator)
            try await seedLeads(services, context: context, consultants: consultants, brands: fields.brands, generator: &generator)
            if let advisor = team[.service], let crm = team[.crm] {
                try await seedComplaints(
                    pool: pool, logger: logger, principal: adminRecord.principal, customers: customers, advisor: advisor, crm: crm,
                    generator: &generator)
                try await seedService(
                    services, context: context, dealerID: dealer.id, brand: fields.brands.first ?? "BMW", advisor: advisor,
                    dealerIndex: index, generator: &generator)
            }
        }
        for line in keyLines { print(line) }
        if let keysFile {
            try (keyLines.joined(separator: "\n") + "\n").write(toFile: keysFile, atomically: true, encoding: .utf8)
        }
    }

    private func seedCustomers(
        _ services: DomainServices, context: CallContext, brands: [String], dealerIndex: Int,
        generator: inout SeededGenerator
    ) async throws -> [Customer] {
        var phones = Set<String>()
        var created: [Customer] = []
        for number in 0..<customers {
            var phone = Demo.mobile(&generator)
            while !phones.insert(phone).inserted { phone = Demo.mobile(&generator) }
            let isCompany = number % 25 == 0
            let surname = Demo.surnames.randomElement(using: &generator) ?? "王"
            let name = isCompany ? Demo.companies.randomElement(using: &generator) ?? "上海某公司" : surname + Demo.givenName(&generator)
            let birthday = LocalDate(
                year: Int.random(in: 1960...2000, using: &generator), month: Int.random(in: 1...12, using: &generator),
                day: Int.random(in: 1...28, using: &generator))
            let city = Demo.cities[dealerIndex].randomElement(using: &generator) ?? ("上海", "浦东新区")
            let fields = CustomerFields(
                kind: isCompany ? .company : .person, name: name, surname: isCompany ? nil : surname,
                gender: isCompany ? nil : (Bool.random(using: &generator) ? .male : .female), phone: phone,
                birthday: isCompany ? nil : birthday,
                address: Address(city: city.0, district: city.1, community: Demo.communities.randomElement(using: &generator)),
                occupation: isCompany ? nil : Demo.occupations.randomElement(using: &generator),
                incomeBand: IncomeBand.allCases.randomElement(using: &generator),
                hobbies: Array(Demo.hobbies.shuffled(using: &generator).prefix(Int.random(in: 0...3, using: &generator))),
                maritalStatus: isCompany ? nil : MaritalStatus.allCases.randomElement(using: &generator),
                children: isCompany ? nil : Int.random(in: 0...2, using: &generator),
                fleetCategory: isCompany ? [.corporate, .rental, .leasing].randomElement(using: &generator) : nil,
                preferredBrands: [brands.randomElement(using: &generator) ?? "BMW"],
                tags: number % 7 == 0 ? ["vip"] : [])
            let consents = ConsentChannel.allCases.filter { _ in Int.random(in: 0..<10, using: &generator) < 6 }.map {
                CustomerService.InitialConsent(channel: $0, status: .granted, source: .showroomForm)
            }
            let customer = try await services.customers.create(fields, dealerID: nil, consents: consents, context: context)
            for _ in 0..<(number % 5 == 0 ? 2 : 1) {
                try await seedVehicle(services, owner: customer, brands: brands, context: context, generator: &generator)
            }
            created.append(customer)
        }
        return created
    }

    /// Service history and a first reminder scan: a maintenance schedule per brand, visits of
    /// the seeded vehicles (their readings came with them), and one showcase customer per
    /// reminder kind and per suppression reason, so that the reminder list shows every kind and
    /// every reason: the scan runs, then between it and the send a car is sold and another one
    /// visits, then the send step re-checks (the two last reasons appear only there).
    private func seedService(
        _ services: DomainServices, context: CallContext, dealerID: UUID, brand: String, advisor: StaffMember, dealerIndex: Int,
        generator: inout SeededGenerator
    ) async throws {
        let zone = DealerFields.defaultZone
        let now = services.clock.now
        let today = LocalDate(now, in: zone)
        _ = try await services.serviceVisits.putSchedule(
            brand: brand, series: nil, firstKm: 5_000, firstMonths: 6, intervalKm: 10_000, intervalMonths: 12, dealerID: nil,
            context: context)
        // Visits of the seeded cars: one maintenance per car with a reading, at its last reading.
        var visits = 0
        let vehicles = try await services.vehicles.list(filter: VehicleFilter(), dealerFilter: nil, page: PageRequest(limit: 200, cursor: nil), context: context)
        for vehicle in vehicles.items {
            guard let reading = try await services.vehicles.readings(vehicleID: vehicle.id, context: context).first else { continue }
            let opened = reading.readOn.instant(minutes: 9 * 60 + Int.random(in: 0..<480, using: &generator), in: zone)
            _ = try await services.serviceVisits.record(
                ServiceVisitFields(
                    vehicleID: vehicle.id, customerID: nil, repairOrderNumber: "RO-\(dealerIndex)-\(visits)", type: .maintenance,
                    openedAt: opened, closedAt: opened.addingTimeInterval(3 * 3600), odometerKm: reading.km,
                    lineItems: [ServiceLineItem(code: "M10K", description: "常规保养", labourMinor: 38_000, partsMinor: 62_000)],
                    advisorID: advisor.id, notes: nil),
                dealerID: nil, context: context)
            visits += 1
        }
        // One showcase customer per reminder kind and suppression reason.
        var seed = 0
        func showcase(
            _ name: String, consents: [ConsentChannel] = [.sms, .wechat], birthday: LocalDate? = nil, delivered: LocalDate? = nil,
            insurance: LocalDate? = nil, inspection: LocalDate? = nil, warranty: LocalDate? = nil, openRecall: Bool = false,
            generator: inout SeededGenerator
        ) async throws -> (Customer, Vehicle?) {
            seed += 1
            let customer = try await services.customers.create(
                CustomerFields(kind: .person, name: name, surname: String(name.prefix(1)), phone: Demo.mobile(&generator), birthday: birthday),
                dealerID: nil, consents: consents.map { .init(channel: $0, status: .granted, source: .showroomForm) }, context: context)
            guard delivered != nil || insurance != nil || inspection != nil || warranty != nil || openRecall else { return (customer, nil) }
            let vehicle = try await services.vehicles.create(
                VehicleFields(
                    vin: Demo.vin(brand: brand, year: (delivered ?? today).year, generator: &generator), plate: Demo.plate(&generator),
                    brand: brand, series: Demo.models[brand]?.first?.0, deliveryDate: delivered, warrantyEnd: warranty,
                    insuranceExpiry: insurance, inspectionDue: inspection, openRecall: openRecall),
                dealerID: nil, owner: .init(customerID: customer.id, from: delivered), context: context)
            return (customer, vehicle)
        }
        func visit(_ vehicle: Vehicle, on date: LocalDate, km: Int, type: ServiceVisitType) async throws {
            let opened = date.instant(minutes: 10 * 60, in: zone)
            _ = try await services.serviceVisits.record(
                ServiceVisitFields(
                    vehicleID: vehicle.id, customerID: nil, repairOrderNumber: "RO-\(dealerIndex)-S\(seed)-\(date)", type: type,
                    openedAt: opened, closedAt: opened.addingTimeInterval(2 * 3600), odometerKm: km, lineItems: [], advisorID: advisor.id,
                    notes: nil),
                dealerID: nil, context: context)
        }
        func reading(_ vehicle: Vehicle, on date: LocalDate, km: Int) async throws {
            _ = try await services.vehicles.addReading(vehicleID: vehicle.id, readOn: date, km: km, source: .serviceVisit, context: context)
        }
        // Maintenance due in 4 days (12 months after the last one, hardly driven since).
        let (_, maintained) = try await showcase("周保养", delivered: today.adding(months: -30), generator: &generator)
        if let car = maintained {
            try await visit(car, on: today.adding(days: 4).adding(months: -12), km: 20_000, type: .maintenance)
            try await reading(car, on: today.adding(days: -20), km: 24_000)
        }
        // First service due in 5 days by time.
        let (_, fresh) = try await showcase("吴首保", delivered: today.adding(days: 5).adding(months: -6), generator: &generator)
        if let car = fresh {
            try await reading(car, on: today.adding(days: 5).adding(months: -6).adding(days: 10), km: 100)
            try await reading(car, on: today.adding(days: -10), km: 2_000)
        }
        // A birthday in two days; insurance, inspection and warranty coming up; a dormant car; an open recall.
        let birthday = today.adding(days: 2)
        _ = try await showcase("郑生日", birthday: LocalDate(year: 1985, month: birthday.month, day: min(birthday.day, 28)), generator: &generator)
        // Consent to calls only: a call task for the advisor.
        _ = try await showcase("王保险", consents: [.phone], insurance: today.adding(days: 20), generator: &generator)
        _ = try await showcase("冯年检", inspection: today.adding(days: 12), generator: &generator)
        _ = try await showcase("陈质保", warranty: today.adding(days: 25), generator: &generator)
        let (_, dormant) = try await showcase("褚休眠", delivered: today.adding(months: -40), generator: &generator)
        if let car = dormant { try await visit(car, on: today.adding(days: -3).adding(months: -12), km: 45_000, type: .repair) }
        // Suppressed: an open recall (its insurance reminder; the recall notice goes), an open
        // complaint, no consent, opted out, erased, the frequency cap.
        _ = try await showcase("卫召回", insurance: today.adding(days: 21), openRecall: true, generator: &generator)
        let (unhappy, _) = try await showcase("蒋投诉", insurance: today.adding(days: 22), generator: &generator)
        _ = try await services.complaints.create(
            ComplaintFields(customerID: unhappy.id, channel: .dealerHotline, category: .serviceQuality, severity: .normal, description: "保养后仍有异响"),
            ownerID: advisor.id, note: nil, dealerID: nil, context: context)
        _ = try await showcase("沈无同意", consents: [], insurance: today.adding(days: 23), generator: &generator)
        let (withdrawn, _) = try await showcase("韩退订", insurance: today.adding(days: 24), generator: &generator)
        for channel in [ConsentChannel.sms, .wechat] {
            _ = try await services.customers.changeConsent(
                customerID: withdrawn.id,
                .init(channel: channel, status: .withdrawn, source: .customerRequest, effectiveAt: nil, note: "客户要求退订"), context: context)
        }
        let (erased, _) = try await showcase("杨注销", insurance: today.adding(days: 25), generator: &generator)
        _ = try await services.customers.erase(erased.id, context: context)
        let (busy, _) = try await showcase("朱多车", insurance: today.adding(days: 26), generator: &generator)
        for offset in 27...28 {
            _ = try await services.vehicles.create(
                VehicleFields(
                    vin: Demo.vin(brand: brand, year: today.year, generator: &generator), plate: Demo.plate(&generator), brand: brand,
                    insuranceExpiry: today.adding(days: offset)),
                dealerID: nil, owner: .init(customerID: busy.id, from: nil), context: context)
        }
        // Between the scan and the send: one car is sold, another comes in for service.
        let (seller, sold) = try await showcase("秦转卖", insurance: today.adding(days: 29), generator: &generator)
        let (_, visitor) = try await showcase("尤来店", delivered: today.adding(months: -30), generator: &generator)
        if let car = visitor {
            try await visit(car, on: today.adding(days: 3).adding(months: -12), km: 18_000, type: .maintenance)
            try await reading(car, on: today.adding(days: -20), km: 22_000)
        }
        _ = try await services.reminders.scan(dealerID: dealerID)
        if let car = sold {
            let buyer = try await services.customers.create(
                CustomerFields(kind: .person, name: "许新车主", surname: "许", phone: Demo.mobile(&generator)), dealerID: nil, consents: [],
                context: context)
            _ = try await services.vehicles.transfer(vehicleID: car.id, to: buyer.id, from: today, context: context)
            _ = seller
        }
        if let car = visitor {
            _ = try await services.serviceVisits.record(
                ServiceVisitFields(
                    vehicleID: car.id, customerID: nil, repairOrderNumber: "RO-\(dealerIndex)-early", type: .maintenance,
                    openedAt: services.clock.now, closedAt: nil, odometerKm: 22_500, lineItems: [], advisorID: advisor.id, notes: nil),
                dealerID: nil, context: context)
        }
        _ = try await services.reminders.dispatch(dealerID: dealerID)
    }

    /// Complaints in every state over the last weeks (new, acknowledged, investigating, waiting on
    /// the customer, resolved, closed after their satisfaction callback; the older unhandled ones
    /// past their deadlines and escalated by the SLA scan), with surveys, three of which the
    /// integrity checks flag (the advisor surveying his own customer, a 12-second call with every
    /// question answered, the advisor's own phone as the number called). Written through the
    /// services on a clock set back in time, so every deadline, timeline and callback window is
    /// what it would have been.
    private func seedComplaints(
        pool: PostgresPool, logger: Logger, principal: Principal, customers: [Customer], advisor: StaffMember, crm: StaffMember,
        generator: inout SeededGenerator
    ) async throws {
        let realNow = SystemClock().now
        let clock = SettableClock(realNow)
        let services = DomainServices(pool: pool, logger: logger, clock: clock)
        let context = services.context(for: principal, requestID: "seed")
        let descriptions: [(ComplaintCategory, String, String?)] = [
            (.repairNotFixed, "保养后发动机异响仍未解决，已是第二次返修。", "彻底维修并提供代步车"),
            (.waitingTime, "预约保养等待超过三小时，无人告知进度。", "改进预约流程"),
            (.staffAttitude, "服务顾问态度冷淡，对问题敷衍。", "更换服务顾问并道歉"),
            (.priceBilling, "结算金额与报价不符，多收工时费。", "退还多收费用"),
            (.partsAvailability, "刹车片缺货，等待两周仍未到货。", "尽快到货并补偿"),
            (.salesProcess, "交车时承诺的赠品未兑现。", "兑现承诺的赠品"),
            (.vehicleQuality, "新车中控屏频繁黑屏。", "更换中控屏"),
        ]
        var closedSeen = 0
        for index in 0..<min(14, customers.count) {
            let customer = customers[index * max(1, customers.count / 14)]
            let (category, text, request) = descriptions[index % descriptions.count]
            let owner = index % 2 == 0 ? advisor : crm
            clock.set(realNow.addingTimeInterval(-Double(index) * 2.5 * 86_400 - 3_600))
            let severity: ComplaintSeverity = index % 5 == 0 ? .high : (index % 7 == 3 ? .critical : .normal)
            var complaint = try await services.complaints.create(
                ComplaintFields(
                    customerID: customer.id, channel: ComplaintChannel.allCases.randomElement(using: &generator) ?? .dealerHotline,
                    category: category, severity: severity, safetyRelated: category == .vehicleQuality, description: text,
                    customerRequest: request),
                ownerID: owner.id, note: nil, dealerID: nil, context: context
            ).complaint
            let stage = index % 7
            func move(_ status: ComplaintStatus, after hours: Double, note: String? = nil) async throws {
                clock.advance(by: hours * 3_600)
                complaint = try await services.complaints.move(
                    complaint.id, to: status, note: note, expectedVersion: nil, context: context
                ).complaint
            }
            if stage == 0 { continue }
            try await move(.acknowledged, after: 1.5, note: "已致电客户确认问题")
            if stage == 1 { continue }
            try await move(.investigating, after: 3)
            if stage == 2 { continue }
            try await move(.waitingOnCustomer, after: 20, note: "等待客户到店检查")
            if stage == 3 { continue }
            clock.advance(by: 26 * 3_600)
            _ = try await services.complaints.note(complaint.id, kind: .customerReply, text: "客户已到店", context: context)
            clock.advance(by: 5 * 3_600)
            complaint = try await services.complaints.resolve(
                complaint.id,
                resolution: ComplaintResolution(
                    rootCause: "首次维修未找到根本原因", remedy: ComplaintRemedy.allCases.randomElement(using: &generator) ?? .repair,
                    cost: Money(amountMinor: Int64(Int.random(in: 0...3_000, using: &generator)) * 100, currency: "CNY"),
                    customerAccepted: true, note: nil),
                expectedVersion: nil, context: context
            ).complaint
            if stage == 4 { continue }
            // The callback the next working day, within its window.
            clock.advance(by: 22 * 3_600)
            guard let callback = try await services.callbacks.list(
                filter: CallbackFilter(complaintID: complaint.id), dealerFilter: nil, page: PageRequest(limit: 1, cursor: nil),
                context: context
            ).items.first else { continue }
            let flagged = closedSeen % 4
            closedSeen += 1
            let caller = flagged == 1 ? owner : (owner.id == crm.id ? advisor : crm)
            let seconds: Double = flagged == 2 ? 12 : Double(Int.random(in: 150...400, using: &generator))
            let number = flagged == 3 ? (advisor.fields.phone ?? "") : (customer.fields.phone ?? "")
            let started = clock.now.addingTimeInterval(-seconds - 60)
            _ = try await services.callbacks.recordAttempt(
                callback.id,
                .init(
                    outcome: .reached, numberCalled: number, startedAt: started, endedAt: started.addingTimeInterval(seconds),
                    callerID: caller.id, notes: nil,
                    survey: .init(
                        scores: ["handling": Int.random(in: 3...5, using: &generator), "remedy": Int.random(in: 3...5, using: &generator),
                                 "staff": Int.random(in: 4...5, using: &generator)],
                        nps: Int.random(in: 6...10, using: &generator), comments: "处理及时")),
                context: context)
            try await move(.closed, after: 1)
        }
        clock.set(realNow)
        _ = try await services.complaints.escalate()
    }

    /// Prospects across the eleven channels: most with a consultant (some in the pool), many
    /// followed up, a few declared lost and a few sold.
    private func seedLeads(
        _ services: DomainServices, context: CallContext, consultants: [StaffMember], brands: [String],
        generator: inout SeededGenerator
    ) async throws {
        let today = LocalDate(services.clock.now, in: DealerFields.defaultZone)
        let results = ["客户对价格有顾虑，约周末到店", "已发送配置单，等待回复", "约了试驾", "家人还在商量", "对比竞品中", "询问贷款方案"]
        var phones = Set<String>()
        for number in 0..<leads {
            var phone = Demo.mobile(&generator)
            while !phones.insert(phone).inserted { phone = Demo.mobile(&generator) }
            let surname = Demo.surnames.randomElement(using: &generator) ?? "王"
            let brand = brands.randomElement(using: &generator) ?? "BMW"
            let model = Demo.models[brand]?.randomElement(using: &generator) ?? ("3系", "325Li")
            let type = LeadCustomerType.allCases.randomElement(using: &generator) ?? .firstPurchase
            let fields = LeadFields(
                surname: surname, name: surname + Demo.givenName(&generator),
                gender: Bool.random(using: &generator) ? .male : .female, phone: phone, party: .individual, customerType: type,
                currentBrand: type == .firstPurchase ? nil : ["大众", "本田", "奥迪", "别克"].randomElement(using: &generator),
                currentModel: type == .firstPurchase ? nil : ["帕萨特", "雅阁", "A4L", "君威"].randomElement(using: &generator),
                interestBrand: brand, interestSeries: model.0, interestModel: model.1,
                competitorModels: number % 3 == 0 ? [["奔驰 C260L", "奥迪 A4L", "雷克萨斯 ES"].randomElement(using: &generator) ?? "奥迪 A4L"] : [],
                intendedPurchaseDate: today.adding(days: Int.random(in: 0...500, using: &generator)),
                channel: LeadChannel.allCases.randomElement(using: &generator) ?? .showroom,
                campaign: number % 5 == 0 ? "双十一车展" : nil)
            let consultant = number % 6 == 0 ? nil : consultants.randomElement(using: &generator)
            let consents = number % 2 == 0 ? [CustomerService.InitialConsent(channel: .sms, status: .granted, source: .showroomForm)] : []
            let lead = try await services.leads.create(
                fields, consultantID: consultant?.id, consents: consents, dealerID: nil, context: context
            ).lead
            guard lead.consultantID != nil else { continue }
            if number % 3 != 0 {
                _ = try await services.leads.addFollowUp(
                    lead.id,
                    .init(
                        contactedAt: nil, channel: FollowUpChannel.allCases.randomElement(using: &generator) ?? .phone,
                        result: results.randomElement(using: &generator) ?? "已联系", notes: nil,
                        nextContactDate: today.adding(days: Int.random(in: 1...14, using: &generator)), nextContactAction: "电话回访"),
                    context: context)
            }
            if number % 17 == 4 {
                _ = try await services.leads.declareLoss(
                    lead.id, .init(reason: .boughtCompetitor, competitor: "奥迪 A4L", note: nil), expectedVersion: nil,
                    context: context)
            } else if number % 13 == 1 {
                let vin = Demo.vin(brand: brand, year: today.year, generator: &generator)
                _ = try await services.leads.convert(
                    lead.id,
                    sale: .init(
                        vehicle: VehicleFields(vin: vin, plate: Demo.plate(&generator), brand: brand, series: model.0, model: model.1),
                        priceMinor: Int64(Int.random(in: 180_000...600_000, using: &generator)) * 100, currency: "CNY",
                        deliveryDate: today),
                    expectedVersion: nil, context: context)
            }
        }
    }

    private func seedVehicle(
        _ services: DomainServices, owner: Customer, brands: [String], context: CallContext, generator: inout SeededGenerator
    ) async throws {
        let brand = brands.randomElement(using: &generator) ?? "BMW"
        let model = Demo.models[brand]?.randomElement(using: &generator) ?? ("3系", "325Li")
        let delivered = LocalDate(daysSinceEpoch: 17_897 /* 2019-01-01 */ + Int.random(in: 0...2400, using: &generator))
        let vin = Demo.vin(brand: brand, year: delivered.year, generator: &generator)
        let fields = VehicleFields(
            vin: vin, plate: Demo.plate(&generator), brand: brand, series: model.0, model: model.1, modelYear: delivered.year,
            colour: Demo.colours.randomElement(using: &generator), deliveryDate: delivered,
            warrantyEnd: delivered.adding(months: 36), openRecall: Int.random(in: 0..<50, using: &generator) == 0)
        let vehicle = try await services.vehicles.create(
            fields, dealerID: nil, owner: .init(customerID: owner.id, from: delivered), context: context)
        // Readings every 5-8 months at 800-1,600 km a month until today.
        var date = delivered
        var km = Int.random(in: 5...30, using: &generator)
        let today = LocalDate(services.clock.now, in: DealerFields.defaultZone)
        while true {
            let months = Int.random(in: 5...8, using: &generator)
            let next = date.adding(months: months)
            guard next < today else { break }
            km += months * Int.random(in: 800...1600, using: &generator)
            date = next
            _ = try await services.vehicles.addReading(vehicleID: vehicle.id, readOn: date, km: km, source: .serviceVisit, context: context)
        }
    }
}

/// A deterministic random generator (SplitMix64), so demo data is the same on every machine.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Realistic-looking Chinese dealer data.
enum Demo {
    static let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤").map(String.init) + ["欧阳", "司马", "诸葛"]
    static let givenCharacters = Array("伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬建国文辉力浩宇轩晨欣怡梓涵子墨一诺雨桐思远嘉懿博文雪梅晓东海峰志强丹丹佳琪").map(String.init)
    static let companies = ["上海浦江物流有限公司", "广州天骏汽车租赁有限公司", "深圳前海融资租赁有限公司", "苏州工业园区建设集团", "杭州西湖科技有限公司", "南京金陵酒店管理有限公司"]
    static let communities = ["碧云国际社区", "世纪公园小区", "汤臣一品", "仁恒滨江园", "中海御景湾", "万科城市花园", "保利林语溪", "华润二十四城", "绿地海珀", "星河湾"]
    static let cities: [[(String, String)]] = [
        [("上海", "浦东新区"), ("上海", "徐汇区"), ("上海", "闵行区"), ("上海", "静安区"), ("苏州", "工业园区")],
        [("广州", "天河区"), ("广州", "越秀区"), ("佛山", "南海区"), ("深圳", "南山区"), ("广州", "番禺区")],
    ]
    static let occupations = ["工程师", "教师", "医生", "律师", "企业主", "公务员", "销售经理", "设计师", "会计", "程序员"]
    static let hobbies = ["高尔夫", "自驾游", "摄影", "钓鱼", "跑步", "美食", "户外露营", "茶艺", "马拉松", "滑雪"]
    static let colours = ["矿石白", "碳黑", "宝石青", "雪山白", "墨玉黑", "天际灰", "烈焰红"]
    static let models: [String: [(String, String)]] = [
        "BMW": [("3系", "325Li"), ("5系", "530Li"), ("X3", "xDrive28i"), ("X5", "xDrive40Li"), ("iX3", "领先型")],
        "MINI": [("COOPER", "5门版"), ("COUNTRYMAN", "S ALL4")],
        "Toyota": [("凯美瑞", "2.0G 豪华版"), ("卡罗拉", "1.5L 精英版"), ("RAV4荣放", "2.0L 风尚版"), ("汉兰达", "双擎 尊贵版")],
    ]
    static let plateProvinces = ["沪A", "沪B", "沪C", "粤A", "粤B", "苏E"]

    static func mobile(_ generator: inout SeededGenerator) -> String {
        let prefixes = ["135", "136", "137", "138", "139", "150", "151", "158", "159", "186", "187", "188", "189", "199"]
        return (prefixes.randomElement(using: &generator) ?? "138") + String(format: "%08d", Int.random(in: 0..<100_000_000, using: &generator))
    }

    static func givenName(_ generator: inout SeededGenerator) -> String {
        (0..<Int.random(in: 1...2, using: &generator)).map { _ in givenCharacters.randomElement(using: &generator) ?? "明" }.joined()
    }

    static func plate(_ generator: inout SeededGenerator) -> String {
        let letters = Array("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
        return (plateProvinces.randomElement(using: &generator) ?? "沪A")
            + String((0..<5).map { _ in letters.randomElement(using: &generator) ?? "0" })
    }

    /// A VIN with the brand's Chinese world manufacturer identifier, model-year code and a
    /// correct check digit.
    static func vin(brand: String, year: Int, generator: inout SeededGenerator) -> String {
        let wmi = ["BMW": "LBV", "MINI": "WMW", "Toyota": "LVG"][brand] ?? "LSV"
        let allowed = Array("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")
        let yearCodes = Array("ABCDEFGHJKLMNPRSTVWXY123456789")
        let yearCode = yearCodes[(year - 2010 + 30 * 10) % yearCodes.count]
        let vds = String((0..<5).map { _ in allowed.randomElement(using: &generator) ?? "A" })
        let serial = String(format: "%06d", Int.random(in: 0..<1_000_000, using: &generator))
        let draft = wmi + vds + "0" + String(yearCode) + "N" + serial
        return VIN.withCheckDigit(draft) ?? draft
    }
}
