import CRMContract
import CRMDomain
import CRMServices
import Foundation
import OpenAPIRuntime

extension Components.Schemas.Vehicle {
    init(_ vehicle: Vehicle) {
        let f = vehicle.fields
        self.init(
            id: Output.id(vehicle.id), dealerId: Output.id(vehicle.dealerID), vin: f.vin, plate: f.plate, brand: f.brand,
            series: f.series, model: f.model, modelYear: f.modelYear, colour: f.colour,
            deliveryDate: f.deliveryDate?.description, warrantyEnd: f.warrantyEnd?.description,
            insuranceExpiry: f.insuranceExpiry?.description, inspectionDue: f.inspectionDue?.description, openRecall: f.openRecall,
            recallOpenedOn: vehicle.recallOpenedOn?.description, createdAt: vehicle.createdAt, updatedAt: vehicle.updatedAt,
            version: vehicle.version)
    }
}

extension Components.Schemas.OdometerReading {
    init(_ reading: OdometerReading) throws {
        self.init(
            id: Output.id(reading.id), vehicleId: Output.id(reading.vehicleID), readOn: reading.readOn.description,
            km: reading.km, source: try Input.convert(reading.source), recordedAt: reading.recordedAt)
    }
}

extension Components.Schemas.Ownership {
    init(_ ownership: Ownership) {
        self.init(
            id: Output.id(ownership.id), vehicleId: Output.id(ownership.vehicleID), customerId: Output.id(ownership.customerID),
            ownedFrom: ownership.ownedFrom.description, ownedTo: ownership.ownedTo?.description)
    }
}

/// The writable fields of a vehicle as the contract spells them (the merge target of a PATCH).
struct VehicleWritable: Codable {
    var vin: String
    var plate: String?
    var brand: String
    var series: String?
    var model: String?
    var modelYear: Int?
    var colour: String?
    var deliveryDate: String?
    var warrantyEnd: String?
    var insuranceExpiry: String?
    var inspectionDue: String?
    var openRecall: Bool?

    enum CodingKeys: String, CodingKey {
        case vin, plate, brand, series, model, colour
        case modelYear = "model_year"
        case deliveryDate = "delivery_date"
        case warrantyEnd = "warranty_end"
        case insuranceExpiry = "insurance_expiry"
        case inspectionDue = "inspection_due"
        case openRecall = "open_recall"
    }

    init(_ f: VehicleFields) {
        vin = f.vin
        plate = f.plate
        brand = f.brand
        series = f.series
        model = f.model
        modelYear = f.modelYear
        colour = f.colour
        deliveryDate = f.deliveryDate?.description
        warrantyEnd = f.warrantyEnd?.description
        insuranceExpiry = f.insuranceExpiry?.description
        inspectionDue = f.inspectionDue?.description
        openRecall = f.openRecall
    }

    init(_ input: Components.Schemas.VehicleInput) {
        vin = input.vin
        plate = input.plate
        brand = input.brand
        series = input.series
        model = input.model
        modelYear = input.modelYear
        colour = input.colour
        deliveryDate = input.deliveryDate
        warrantyEnd = input.warrantyEnd
        insuranceExpiry = input.insuranceExpiry
        inspectionDue = input.inspectionDue
        openRecall = input.openRecall
    }

    var fields: VehicleFields {
        get throws {
            VehicleFields(
                vin: vin, plate: plate, brand: brand, series: series, model: model, modelYear: modelYear, colour: colour,
                deliveryDate: try Input.date(deliveryDate, field: "delivery_date"),
                warrantyEnd: try Input.date(warrantyEnd, field: "warranty_end"),
                insuranceExpiry: try Input.date(insuranceExpiry, field: "insurance_expiry"),
                inspectionDue: try Input.date(inspectionDue, field: "inspection_due"), openRecall: openRecall ?? false)
        }
    }
}

/// `/v1/vehicles...`: vehicles, ownership, odometer readings.
extension APIHandler {
    func listVehicles(_ input: Operations.ListVehicles.Input) async throws -> Operations.ListVehicles.Output {
        let query = input.query
        let page = try await services.vehicles.list(
            filter: VehicleFilter(
                vin: query.vin, plate: query.plate, brand: query.brand,
                ownerID: try Input.id(query.customerId, field: "customer_id"), openRecall: query.openRecall),
            dealerFilter: try Input.id(query.dealerId, field: "dealer_id"),
            page: try await pageRequest(limit: query.limit, cursor: query.cursor), context: try context())
        return .ok(.init(body: .json(.init(data: page.items.map(Components.Schemas.Vehicle.init), nextCursor: try await nextCursor(page)))))
    }

    func createVehicle(_ input: Operations.CreateVehicle.Input) async throws -> Operations.CreateVehicle.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let owner = try body.owner.map {
            VehicleService.InitialOwner(
                customerID: try Input.id($0.customerId, field: "owner.customer_id"),
                from: try Input.date($0.from, field: "owner.from"))
        }
        let vehicle = try await services.vehicles.create(
            try VehicleWritable(body).fields, dealerID: try Input.id(body.dealerId, field: "dealer_id"), owner: owner,
            context: try context())
        Output.etag(vehicle.version)
        Output.location("/v1/vehicles/\(Output.id(vehicle.id))")
        return .created(.init(body: .json(.init(vehicle))))
    }

    func getVehicle(_ input: Operations.GetVehicle.Input) async throws -> Operations.GetVehicle.Output {
        let vehicle = try await services.vehicles.get(try Input.pathID(input.path.vehicleId, "vehicle"), context: try context())
        Output.etag(vehicle.version)
        return .ok(.init(body: .json(.init(vehicle))))
    }

    func updateVehicle(_ input: Operations.UpdateVehicle.Input) async throws -> Operations.UpdateVehicle.Output {
        let context = try context()
        let id = try Input.pathID(input.path.vehicleId, "vehicle")
        let expected = try Input.expectedVersion(input.headers.ifMatch)
        let current = try await services.vehicles.get(id, context: context)
        let merged = try MergePatch.merge(body: RequestScope.now.body, into: VehicleWritable(current.fields))
        let updated = try await services.vehicles.update(
            id, expectedVersion: expected ?? current.version, fields: try merged.fields, context: context)
        Output.etag(updated.version)
        return .ok(.init(body: .json(.init(updated))))
    }

    func deleteVehicle(_ input: Operations.DeleteVehicle.Input) async throws -> Operations.DeleteVehicle.Output {
        let context = try context()
        let id = try Input.pathID(input.path.vehicleId, "vehicle")
        let expected: Int
        if let version = try Input.expectedVersion(input.headers.ifMatch) {
            expected = version
        } else {
            expected = try await services.vehicles.get(id, context: context).version
        }
        try await services.vehicles.delete(id, expectedVersion: expected, context: context)
        return .noContent(.init())
    }

    func listOwnerships(_ input: Operations.ListOwnerships.Input) async throws -> Operations.ListOwnerships.Output {
        let history = try await services.vehicles.ownerships(
            vehicleID: try Input.pathID(input.path.vehicleId, "vehicle"), context: try context())
        return .ok(.init(body: .json(.init(data: history.map(Components.Schemas.Ownership.init)))))
    }

    func transferOwnership(_ input: Operations.TransferOwnership.Input) async throws -> Operations.TransferOwnership.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let customerID = try Input.id(body.customerId, field: "customer_id")
        let ownership = try await services.vehicles.transfer(
            vehicleID: try Input.pathID(input.path.vehicleId, "vehicle"), to: customerID,
            from: try Input.date(body.from, field: "from"), context: try context())
        return .created(.init(body: .json(.init(ownership))))
    }

    func listOdometerReadings(_ input: Operations.ListOdometerReadings.Input) async throws
        -> Operations.ListOdometerReadings.Output
    {
        let readings = try await services.vehicles.readings(
            vehicleID: try Input.pathID(input.path.vehicleId, "vehicle"), context: try context())
        return .ok(.init(body: .json(.init(data: try readings.map(Components.Schemas.OdometerReading.init)))))
    }

    func addOdometerReading(_ input: Operations.AddOdometerReading.Input) async throws -> Operations.AddOdometerReading.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType("Send application/json.") }
        let reading = try await services.vehicles.addReading(
            vehicleID: try Input.pathID(input.path.vehicleId, "vehicle"), readOn: try Input.date(body.readOn, field: "read_on"),
            km: body.km, source: try Input.convert(body.source), context: try context())
        return .created(.init(body: .json(try .init(reading))))
    }
}
