// Package handovercompat tests passing a pollnet listening socket between
// processes, the two ways servers do it:
//
//   - socket activation, systemd style: a parent ("systemd") owns the
//     listening socket and starts the server with it as fd 3, LISTEN_FDS=1
//     and LISTEN_PID set to the server's pid; the server builds its listener
//     with pollnet.FileListener(os.NewFile(3, ...));
//   - graceful restart: a serving process hands Listener.File() to its
//     successor, closes its own listener (net/http Shutdown), and the
//     successor goes on serving on the same address: clients never see a
//     refused connection.
//
// The other process is this test binary itself, re-executed in child mode
// (see TestMain).
package handovercompat
