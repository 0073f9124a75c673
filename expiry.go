//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import "time"

// The parking lot's idle deadlines: a min-heap of fds ordered by
// slots[fd].deadline, each slot knowing its heap position, and one timer per
// listener set to the earliest deadline. All methods run with p.mu held.

func (p *parkingLot) less(i, j int) bool {
	return p.slots[p.expiry[i]].deadline < p.slots[p.expiry[j]].deadline
}

func (p *parkingLot) swap(i, j int) {
	p.expiry[i], p.expiry[j] = p.expiry[j], p.expiry[i]
	p.slots[p.expiry[i]].heapIdx = int32(i)
	p.slots[p.expiry[j]].heapIdx = int32(j)
}

func (p *parkingLot) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !p.less(i, parent) {
			return
		}
		p.swap(i, parent)
		i = parent
	}
}

func (p *parkingLot) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(p.expiry) {
			return
		}
		m := l
		if r := l + 1; r < len(p.expiry) && p.less(r, l) {
			m = r
		}
		if !p.less(m, i) {
			return
		}
		p.swap(i, m)
		i = m
	}
}

func (p *parkingLot) pushExpiry(fd int) {
	p.expiry = append(p.expiry, int32(fd))
	i := len(p.expiry) - 1
	p.slots[fd].heapIdx = int32(i)
	p.up(i)
	if p.slots[p.expiry[0]].deadline == p.slots[fd].deadline {
		p.armTimer()
	}
}

func (p *parkingLot) removeExpiry(fd int) {
	i := int(p.slots[fd].heapIdx)
	if i < 0 || i >= len(p.expiry) || int(p.expiry[i]) != fd {
		return
	}
	last := len(p.expiry) - 1
	if i != last {
		p.swap(i, last)
	}
	p.expiry = p.expiry[:last]
	p.slots[fd].heapIdx = notInHeap
	if i < last {
		p.down(i)
		p.up(i)
	}
	if len(p.expiry) == 0 {
		p.expiry = nil
	}
}

// armTimer sets the timer to the earliest deadline.
func (p *parkingLot) armTimer() {
	if len(p.expiry) == 0 || p.closed {
		return
	}
	d := time.Until(time.Unix(0, p.slots[p.expiry[0]].deadline))
	if p.timer == nil {
		p.timer = time.AfterFunc(d, p.expire)
	} else {
		p.timer.Reset(d)
	}
}

// expire closes the parked sockets whose idle deadline has passed, as
// net/http would have closed them had they stayed with it.
func (p *parkingLot) expire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now().UnixNano()
	for len(p.expiry) > 0 && !p.closed {
		fd := int(p.expiry[0])
		if p.slots[fd].deadline > now {
			p.armTimer()
			return
		}
		p.ln.stats.expired.Add(1)
		p.releaseLocked(fd)
	}
}
