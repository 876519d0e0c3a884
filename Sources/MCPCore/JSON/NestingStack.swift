// SPDX-License-Identifier: Apache-2.0

/// The containers a scanner is inside, innermost last: whether each is an object (keyed) or an array, one bit per
/// level. The first 64 levels live in one word; deeper levels (only with a raised depth limit) in an array.
struct NestingStack {
    /// Open containers.
    private(set) var depth = 0
    private var shallow: UInt64 = 0
    private var deep: [UInt64] = []

    /// Opens a container one level below the innermost.
    mutating func push(keyed: Bool) {
        let level = depth
        if level < 64 {
            let bit: UInt64 = 1 &<< UInt64(level)  // trap-ok: 0 <= level < 64
            shallow = keyed ? shallow | bit : shallow & ~bit
        } else {
            let word = (level - 64) >> 6
            let bit: UInt64 = 1 &<< UInt64((level - 64) & 63)
            // Levels grow one at a time, so a new word is always the next one.
            if word == deep.count { deep.append(0) }
            deep[word] = keyed ? deep[word] | bit : deep[word] & ~bit
        }
        depth = level + 1
    }

    /// Closes the innermost container; does nothing when none is open.
    mutating func pop() {
        if depth > 0 { depth -= 1 }
    }

    /// Whether the innermost open container is an object (false when none is open).
    var innermostIsKeyed: Bool {
        let level = depth - 1
        if level < 0 { return false }
        if level < 64 { return shallow & (1 &<< UInt64(level)) != 0 }  // trap-ok: 0 <= level < 64 here
        let word = (level - 64) >> 6
        guard word < deep.count else { return false }
        return deep[word] & (1 &<< UInt64((level - 64) & 63)) != 0
    }
}
