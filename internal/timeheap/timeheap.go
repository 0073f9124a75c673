// Package timeheap is the one indexed min-heap of deadlines that pollnet's
// timer structures share: the parking lot's idle deadlines (root package) and
// gnet/'s per-loop connection expiries. No Go timer per item: the owner keeps
// one timer (or one poll timeout) for the earliest entry.
//
// Each item is told its position whenever it moves (the setIndex function),
// so the owner can update or remove it in O(log n) without searching. An
// item not in the heap should hold NotInHeap.
//
// A Heap is not safe for concurrent use: its owner serialises access (a
// mutex, or a single event-loop goroutine).
package timeheap

// NotInHeap is the position of an item that is not in the heap.
const NotInHeap = -1

type entry[T any] struct {
	when int64
	item T
}

// Heap is an indexed binary min-heap of (when, item) entries.
type Heap[T any] struct {
	entries  []entry[T]
	setIndex func(item T, i int32)
}

// New returns an empty heap that reports positions through setIndex.
func New[T any](setIndex func(item T, i int32)) Heap[T] {
	return Heap[T]{setIndex: setIndex}
}

// Len returns the number of entries.
func (h *Heap[T]) Len() int { return len(h.entries) }

// Min returns the earliest entry; ok is false when the heap is empty.
func (h *Heap[T]) Min() (when int64, item T, ok bool) {
	if len(h.entries) == 0 {
		return 0, item, false
	}
	e := h.entries[0]
	return e.when, e.item, true
}

// Push adds item with deadline when and returns true if it became the
// earliest entry (the owner then re-arms its timer).
func (h *Heap[T]) Push(when int64, item T) (first bool) {
	h.entries = append(h.entries, entry[T]{when, item})
	i := len(h.entries) - 1
	h.setIndex(item, int32(i))
	return h.up(i) == 0
}

// Fix changes the deadline of the entry at position i and restores the order.
func (h *Heap[T]) Fix(i int32, when int64) {
	h.entries[i].when = when
	if j := h.up(int(i)); j == int(i) {
		h.down(j)
	}
}

// Remove takes out the entry at position i and returns its item, which is
// told NotInHeap. When the heap becomes empty its storage is released, so an
// idle owner keeps no backing array sized by an earlier peak.
func (h *Heap[T]) Remove(i int32) T {
	last := len(h.entries) - 1
	item := h.entries[i].item
	if int(i) != last {
		h.swap(int(i), last)
	}
	var zero entry[T]
	h.entries[last] = zero // drop the reference for the GC
	h.entries = h.entries[:last]
	h.setIndex(item, NotInHeap)
	if int(i) < last {
		if j := h.up(int(i)); j == int(i) {
			h.down(j)
		}
	}
	if last == 0 {
		h.entries = nil
	}
	return item
}

// Clear empties the heap without telling the items (the owner is dropping them).
func (h *Heap[T]) Clear() { h.entries = nil }

func (h *Heap[T]) swap(i, j int) {
	e := h.entries
	e[i], e[j] = e[j], e[i]
	h.setIndex(e[i].item, int32(i))
	h.setIndex(e[j].item, int32(j))
}

// up moves entry i towards the root and returns where it ended.
func (h *Heap[T]) up(i int) int {
	for i > 0 {
		p := (i - 1) / 2
		if h.entries[p].when <= h.entries[i].when {
			break
		}
		h.swap(i, p)
		i = p
	}
	return i
}

func (h *Heap[T]) down(i int) {
	n := len(h.entries)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.entries[r].when < h.entries[l].when {
			m = r
		}
		if h.entries[i].when <= h.entries[m].when {
			return
		}
		h.swap(i, m)
		i = m
	}
}
