import Foundation
import CRMAPI; print(contractURL() as Any); if let u = contractURL() { print(try String(contentsOf: u, encoding: .utf8).prefix(40)) }
