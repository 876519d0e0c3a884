// SPDX-License-Identifier: Apache-2.0

/// Name lists for generated workers (ASCII only, so e-mail addresses need no transliteration).
enum HRNames {
    static let first: [String] = [
        "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
        "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
        "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Sandra", "Steven", "Ashley",
        "Paul", "Emily", "Andrew", "Michelle", "Joshua", "Amanda", "Kevin", "Melissa", "Brian", "Stephanie",
        "George", "Rebecca", "Oliver", "Charlotte", "Harry", "Amelia", "Jack", "Isla", "Noah", "Olivia",
        "Liam", "Sophie", "Lukas", "Hannah", "Felix", "Lena", "Jonas", "Mia", "Maximilian", "Lea",
        "Aarav", "Priya", "Vivaan", "Ananya", "Arjun", "Diya", "Rohan", "Kavya", "Ishaan", "Meera",
        "Wei", "Mei", "Jun", "Xin", "Hiroshi", "Yuki", "Min-jun", "Seo-yeon", "Ravi", "Lakshmi",
        "Sean", "Aoife", "Conor", "Niamh", "Ciaran", "Siobhan", "Mateo", "Sofia", "Diego", "Valentina",
        "Omar", "Fatima", "Ahmed", "Layla", "Kwame", "Amara", "Chidi", "Zara", "Ethan", "Chloe",
    ]

    static let last: [String] = [
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
        "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen",
        "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell",
        "Evans", "Roberts", "Turner", "Phillips", "Parker", "Edwards", "Collins", "Stewart", "Morris", "Murphy",
        "Muller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch",
        "Sharma", "Patel", "Singh", "Kumar", "Gupta", "Reddy", "Iyer", "Nair", "Menon", "Rao",
        "Tan", "Lim", "Ng", "Wong", "Chen", "Wang", "Li", "Zhang", "Nakamura", "Kim",
        "Brady", "Kelly", "Byrne", "Ryan", "Walsh", "Doyle", "Brennan", "Gallagher", "Quinn", "Fitzgerald",
        "Okafor", "Mensah", "Haddad", "Rahman", "Silva", "Santos", "Rossi", "Novak", "Kowalski", "Dubois",
    ]
}
