//go:build !race && (linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package pollnet

// relRace is true when the race detector is on: the heaviest loops then run
// fewer iterations (scripts/reliability.sh runs them in full without it).
const relRace = false
