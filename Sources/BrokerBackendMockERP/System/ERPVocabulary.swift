// SPDX-License-Identifier: Apache-2.0

/// Word lists the generator draws master data from.
enum ERPVocabulary {
    /// Supplier countries with typical cities and the local legal-form suffix.
    static let countries: [(code: String, cities: [String], legalForm: String)] = [
        ("DE", ["Hamburg", "Munich", "Stuttgart", "Berlin", "Cologne"], "GmbH"),
        ("FR", ["Lyon", "Paris", "Toulouse", "Lille"], "SARL"),
        ("US", ["Chicago", "Houston", "Atlanta", "Denver", "Columbus"], "Inc."),
        ("GB", ["Manchester", "Leeds", "Birmingham"], "Ltd"),
        ("IT", ["Milan", "Turin", "Bologna"], "S.p.A."),
        ("NL", ["Rotterdam", "Eindhoven", "Utrecht"], "B.V."),
        ("SE", ["Gothenburg", "Malmö"], "AB"),
        ("PL", ["Poznań", "Wrocław", "Gdańsk"], "Sp. z o.o."),
        ("ES", ["Barcelona", "Valencia", "Bilbao"], "S.L."),
        ("CH", ["Basel", "Zurich"], "AG"),
        ("CN", ["Shenzhen", "Suzhou", "Ningbo"], "Co., Ltd."),
    ]

    static let supplierPrefixes = [
        "Nordic", "Alpine", "Atlas", "Summit", "Pioneer", "Vertex", "Orion", "Harbor", "Crescent", "Keystone",
        "Meridian", "Pacific", "Silverline", "Granite", "Evergreen", "Blue River", "Redwood", "Falcon", "Sterling",
        "Union", "Apex", "Beacon", "Cobalt", "Delta", "Horizon", "Ironbridge", "Lakeside", "Northstar", "Quantum",
        "Riverside",
    ]

    static let supplierTrades = [
        "Industrial Supply", "Logistics", "Components", "Metals", "Office Solutions", "Electronics", "Packaging",
        "Chemicals", "Tooling", "IT Services", "Facility Services", "Plastics", "Fasteners", "Textiles", "Machinery",
        "Safety Equipment", "Hydraulics",
    ]

    static let firstNames = [
        "Anna", "Lukas", "Marie", "Jonas", "Sophie", "Paul", "Emma", "Felix", "Laura", "David", "Julia", "Thomas",
        "Sarah", "Michael", "Lea", "Daniel", "Claire", "Marco", "Ingrid", "Oliver",
    ]

    static let lastNames = [
        "Schmidt", "Müller", "Weber", "Dubois", "Martin", "Rossi", "Jansen", "Andersson", "Kowalski", "García",
        "Smith", "Brown", "Fischer", "Keller", "Bernard", "Moretti", "de Vries", "Novak", "Lindqvist", "Walker",
    ]

    /// SAP user names that create purchase orders.
    static let buyers = [
        "JSCHMIDT", "MWEBER", "ADUBOIS", "LROSSI", "KJANSEN", "PNOVAK", "SMILLER", "TFISCHER", "CKELLER", "EBROWN",
        "HLINDQVIST", "RGARCIA",
    ]

    /// Cost centre names; the generator numbers them CC1000, CC1010, …
    static let costCenters = [
        "IT Infrastructure", "IT Applications", "IT Service Desk", "Procurement", "Facilities Management",
        "Production Line 1", "Production Line 2", "Production Line 3", "Assembly", "Quality Assurance",
        "Maintenance", "Warehouse North", "Warehouse South", "Shipping", "Inbound Logistics", "Research Lab",
        "Product Development", "Engineering", "Marketing", "Sales DACH", "Sales France", "Sales North America",
        "Customer Service", "Finance", "Controlling", "Human Resources", "Training", "Legal", "Executive Office",
        "Health and Safety", "Environmental Services", "Fleet Management", "Canteen", "Security", "Corporate IT Security",
        "Data Center", "Packaging Line", "Tool Shop", "Energy Management", "Internal Audit", "Treasury", "Payroll",
        "Works Council", "Corporate Communications", "Strategy Office", "Plant Administration Hamburg",
        "Plant Administration Lyon", "Plant Administration Chicago",
    ]

    /// Material families: base description, variants, unit, price range in cents, order quantity range.
    static let materialFamilies: [(base: String, variants: [String], unit: String, price: ClosedRange<Int>, qty: ClosedRange<Int>)] = [
        ("Hex bolt", ["M6x20", "M8x40", "M10x50", "M12x60", "M16x80"], "ST", 5...250, 100...5000),
        ("Hex nut", ["M6", "M8", "M10", "M12", "M16"], "ST", 2...90, 100...5000),
        ("Ball bearing", ["6204-2RS", "6205-2RS", "6306-ZZ", "6001-2RS"], "ST", 300...4500, 10...400),
        ("Safety gloves", ["size 8", "size 9", "size 10", "cut level C"], "PAK", 900...4500, 5...200),
        ("Copy paper A4", ["80 g/m²", "100 g/m²", "recycled"], "KAR", 2200...4200, 5...120),
        ("Laptop", ["14\" standard", "15\" engineering", "13\" ultralight"], "ST", 79_000...219_000, 1...25),
        ("Monitor", ["24\" FHD", "27\" QHD", "32\" 4K"], "ST", 14_000...62_000, 1...30),
        ("Hydraulic oil", ["ISO VG 32", "ISO VG 46", "ISO VG 68"], "L", 280...950, 20...1000),
        ("Steel sheet", ["1.5 mm S235", "2 mm S235", "3 mm S355", "2 mm stainless"], "KG", 90...690, 100...8000),
        ("Network cable", ["CAT6 grey", "CAT6A blue", "CAT7 shielded"], "M", 35...240, 50...3000),
        ("Toner cartridge", ["black", "cyan", "magenta", "yellow"], "ST", 4500...16_000, 2...60),
        ("Stretch film", ["500 mm 23 µm", "450 mm 17 µm"], "ROL", 900...2600, 10...400),
        ("Cardboard box", ["600x400x400", "400x300x200", "300x200x150"], "ST", 60...420, 100...5000),
        ("Welding wire", ["SG2 1.0 mm", "SG2 1.2 mm", "AlMg5 1.0 mm"], "KG", 300...1900, 15...600),
        ("Pneumatic cylinder", ["32x100", "50x200", "63x250"], "ST", 6500...39_000, 1...40),
        ("Safety shoes", ["S3 size 42", "S3 size 44", "S1P size 40"], "ST", 5900...14_900, 1...80),
        ("Cleaning agent", ["industrial degreaser", "floor cleaner", "disinfectant"], "L", 250...1400, 20...600),
        ("Drill bit", ["HSS 6 mm", "HSS 8 mm", "carbide 10 mm"], "ST", 180...3900, 10...300),
    ]

    static let currencies = ["EUR", "USD", "CHF", "GBP"]
}
