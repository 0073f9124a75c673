//go:build darwin || netbsd || openbsd

package gnet

// reusePortBalances: here SO_REUSEPORT lets sockets share an address but one
// of them gets all unicast datagrams, so a UDP listener has one socket.
const reusePortBalances = false
