//go:build linux || dragonfly || freebsd

package gnet

// reusePortBalances: the kernel spreads datagrams over the UDP sockets bound
// to one address with SO_REUSEPORT (by a hash of the peer's address), so a
// UDP listener gets one socket per event loop.
const reusePortBalances = true
