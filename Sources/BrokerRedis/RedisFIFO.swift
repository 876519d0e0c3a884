// SPDX-License-Identifier: Apache-2.0

/// A first-in first-out queue with O(1) removal at the head (replies arrive in the order commands were sent).
struct RedisFIFO<Element> {
    private var storage: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == storage.count }
    var first: Element? { isEmpty ? nil : storage[head] }

    mutating func append(_ element: Element) { storage.append(element) }

    mutating func popFirst() -> Element? {
        guard !isEmpty else { return nil }
        let element = storage[head]
        head += 1
        // Reclaim the consumed prefix now and then, so a busy connection does not grow the array forever.
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024, head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Empties the queue, returning what it held in order.
    mutating func removeAll() -> [Element] {
        defer {
            storage.removeAll()
            head = 0
        }
        return Array(storage[head...])
    }
}
