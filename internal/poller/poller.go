// Package poller is pollnet's one kernel poller: epoll on Linux, kqueue on the
// BSDs and macOS. Both faces of pollnet use it: the root package for the accept
// path and parked (hibernating) sockets, gnet/ for its event loops.
//
// A Poller is edge-triggered: a registration reports readiness once per change,
// so its owner must consume (read, accept, write) until EAGAIN, or remember
// that it stopped early. Every registration carries a caller-chosen 64-bit Key
// that comes back with its events; owners put a generation number in it so
// that an event for a closed fd never reaches whoever reuses the fd number
// (the runtime's netpoll does the same with its fdseq tag).
//
// Add, Modify, Remove and Wake are safe from any goroutine. Wait is called by
// one goroutine at a time, the poller's owner.
package poller

// Interest says what a registration waits for, and what an Event reports.
type Interest uint8

const (
	// Readable: data, a pending connection, or end of stream is available.
	Readable Interest = 1 << iota
	// Writable: the socket accepts more data (or a connect finished).
	Writable
	// OneShot makes a registration report once and then stay disabled,
	// still registered, until Modify re-arms it (EPOLLONESHOT, EV_DISPATCH).
	// A disabled registration of an fd that will be closed while a
	// duplicate of it stays open must be removed first: the kernel keeps a
	// registration until the last descriptor of the socket closes.
	OneShot
)

// Event is one readiness report.
type Event struct {
	Key    uint64   // the Key given to Add or Modify
	Ready  Interest // which interests are ready
	Hangup bool     // the peer hung up or the socket has an error: a read will say which
}

// MakeKey packs an fd and a generation into a Key. SplitKey undoes it.
func MakeKey(fd int, gen uint32) uint64 { return uint64(uint32(fd))<<32 | uint64(gen) }

// SplitKey returns the fd and generation packed by MakeKey.
func SplitKey(k uint64) (fd int, gen uint32) { return int(int32(k >> 32)), uint32(k) }
