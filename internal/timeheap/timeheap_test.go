package timeheap

import (
	"math/rand/v2"
	"slices"
	"testing"
)

type item struct {
	id  int
	idx int32
}

func newHeap() Heap[*item] {
	return New(func(it *item, i int32) { it.idx = i })
}

// check verifies the heap order and that every item knows its position.
func check(t *testing.T, h *Heap[*item]) {
	t.Helper()
	for i, e := range h.entries {
		if e.item.idx != int32(i) {
			t.Fatalf("item %d at %d believes it is at %d", e.item.id, i, e.item.idx)
		}
		if p := (i - 1) / 2; i > 0 && h.entries[p].when > e.when {
			t.Fatalf("order broken at %d: parent %d > %d", i, h.entries[p].when, e.when)
		}
	}
}

func TestHeapAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := newHeap()
	model := map[*item]int64{}
	var items []*item
	for step := range 20000 {
		switch op := rng.IntN(10); {
		case op < 4 || len(items) == 0: // push
			it := &item{id: step, idx: NotInHeap}
			when := rng.Int64N(1000)
			first := h.Push(when, it)
			least := when
			for _, w := range model {
				least = min(least, w)
			}
			if first != (when == least && h.entries[0].item == it) {
				t.Fatalf("Push reported first=%v for %d (min %d)", first, when, least)
			}
			model[it] = when
			items = append(items, it)
		case op < 6: // remove a random item
			k := rng.IntN(len(items))
			it := items[k]
			items = slices.Delete(items, k, k+1)
			if got := h.Remove(it.idx); got != it {
				t.Fatalf("Remove returned item %d, want %d", got.id, it.id)
			}
			if it.idx != NotInHeap {
				t.Fatalf("removed item still has position %d", it.idx)
			}
			delete(model, it)
		case op < 8: // change a deadline
			it := items[rng.IntN(len(items))]
			when := rng.Int64N(1000)
			h.Fix(it.idx, when)
			model[it] = when
		default: // pop the minimum
			when, it, ok := h.Min()
			if !ok {
				t.Fatal("Min on a non-empty heap failed")
			}
			for _, w := range model {
				if w < when {
					t.Fatalf("Min returned %d but %d is in the heap", when, w)
				}
			}
			h.Remove(it.idx)
			delete(model, it)
			items = slices.DeleteFunc(items, func(x *item) bool { return x == it })
		}
		check(t, &h)
		if h.Len() != len(model) {
			t.Fatalf("Len %d, model %d", h.Len(), len(model))
		}
	}
}

func TestHeapReleasesStorageWhenEmpty(t *testing.T) {
	h := newHeap()
	a, b := &item{idx: NotInHeap}, &item{idx: NotInHeap}
	h.Push(2, a)
	if !h.Push(1, b) {
		t.Fatal("an earlier deadline did not report first")
	}
	h.Remove(a.idx)
	h.Remove(b.idx)
	if h.entries != nil {
		t.Fatal("an empty heap kept its backing array")
	}
	if _, _, ok := h.Min(); ok {
		t.Fatal("Min on an empty heap reported an entry")
	}
}
