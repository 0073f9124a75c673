package pollnet

// Stats is a snapshot of a Listener's counters. All fields are read with
// atomic loads: calling Stats from a metrics scrape is cheap.
type Stats struct {
	Accepted uint64 // connections accepted from the kernel
	Open     int64  // sockets this listener holds: active, parked and waiting in Accept
	Parked   int64  // sockets hibernating now
	Waiting  int64  // accepted connections waiting in OnReadable now
	Queued   int64  // woken (and, under ServeTLS, handshaken) connections waiting for Accept now: a backlog here means the server cannot keep up
	Parks    uint64 // times a socket was parked
	Wakes    uint64 // times a parked socket woke and was handed out by Accept again
	Expired  uint64 // parked sockets closed because their idle deadline passed
	PeerGone uint64 // parked or queued sockets closed because the peer closed or reset them
}
