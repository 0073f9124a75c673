// Package errors holds the error values of pollnet's gnet engine. Its names
// and texts are those of github.com/panjf2000/gnet/v2/pkg/errors (v2.9.7), so a
// gnet v2 program that compares errors with errors.Is keeps working when its
// imports are switched. Package gnet exports the same values under the same
// names, so programs may use either.
package errors

import (
	"errors"
	"fmt"
	"os"
)

var (
	// ErrEmptyEngine occurs when trying to do something with an empty engine:
	// the zero Engine, a client's Engine (it has no listener), or an
	// Engine whose event loops are not running yet (during OnBoot).
	ErrEmptyEngine = errors.New("gnet: the internal engine is empty")
	// ErrEngineShutdown occurs when the engine is shutting down: a Shutdown
	// action. CloseWithCallback's callback receives it when the OnClose of
	// the connection it closed returned Shutdown.
	ErrEngineShutdown = errors.New("gnet: server is going to be shutdown")
	// ErrEngineInShutdown occurs when the engine is already shut down or
	// shutting down.
	ErrEngineInShutdown = errors.New("gnet: server is already in shutdown")
	// ErrAcceptSocket occurs when accept fails with an unrecoverable error.
	ErrAcceptSocket = errors.New("gnet: accept a new connection error")
	// ErrTooManyEventLoopThreads occurs when more than 10,000 event loops are
	// asked for with WithLockOSThread.
	ErrTooManyEventLoopThreads = errors.New("gnet: too many event-loops under LockOSThread mode")
	// ErrUnsupportedProtocol occurs when an address scheme is not one of
	// tcp, tcp4, tcp6, udp, udp4, udp6 and unix.
	ErrUnsupportedProtocol = errors.New("gnet: only unix, tcp/tcp4/tcp6, udp/udp4/udp6 are supported")
	// ErrUnsupportedTCPProtocol occurs when a TCP network is not tcp, tcp4 or tcp6.
	ErrUnsupportedTCPProtocol = errors.New("gnet: only tcp/tcp4/tcp6 are supported")
	// ErrUnsupportedUDPProtocol occurs when a UDP network is not udp, udp4 or udp6.
	ErrUnsupportedUDPProtocol = errors.New("gnet: only udp/udp4/udp6 are supported")
	// ErrUnsupportedUDSProtocol occurs when a unix-domain network is not unix.
	ErrUnsupportedUDSProtocol = errors.New("gnet: only unix is supported")
	// ErrUnsupportedOp occurs when an operation is not supported, such as
	// Writev on a UDP connection.
	ErrUnsupportedOp = errors.New("gnet: unsupported operation")
	// ErrNegativeSize occurs when a negative size is given.
	ErrNegativeSize = errors.New("gnet: negative size is not allowed")
	// ErrNoIPv4AddressOnInterface occurs when a multicast group should be
	// joined on an interface that has no IPv4 address.
	ErrNoIPv4AddressOnInterface = errors.New("gnet: no IPv4 address on interface")
	// ErrInvalidNetworkAddress occurs when an address cannot be used: it
	// does not parse, names no listener, or is missing (SendTo with nil).
	ErrInvalidNetworkAddress = errors.New("gnet: invalid network address")
	// ErrInvalidNetConn occurs when a nil net.Conn is given.
	ErrInvalidNetConn = errors.New("gnet: the net.Conn is empty")
	// ErrNilRunnable occurs when a nil Runnable is given.
	ErrNilRunnable = errors.New("gnet: nil runnable is not allowed")

	// The errors below are pollnet's additions.

	// ErrUnsupportedPlatform occurs on platforms without a poller (Windows
	// and others): Run, Rotate and Client.Start return it.
	ErrUnsupportedPlatform = errors.New("gnet: unsupported platform: pollnet's gnet needs epoll or kqueue")
	// ErrOutboundFull occurs when a write would take a connection's
	// outbound buffer past the hard cap set by WithOutboundHardCap. Nothing
	// was queued.
	ErrOutboundFull = errors.New("gnet: outbound buffer is at its hard cap")
	// ErrIdleTimeout is what OnClose receives when WithIdleTimeout closes a
	// connection. It wraps os.ErrDeadlineExceeded.
	ErrIdleTimeout = fmt.Errorf("gnet: idle timeout: %w", os.ErrDeadlineExceeded)
)
