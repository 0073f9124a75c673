// Package gnetv2 runs the same small programs against pollnet's gnet/ and
// against github.com/panjf2000/gnet/v2 v2.9.7, and compares what a program
// can see: Peek/Next/Read/Discard results and errors on short buffers,
// Next(-1), which callbacks fire in which order and how often, what Run
// returns after Stop or a Shutdown action, and unix socket file handling.
// The known, intended differences are asserted as such (see gnet/README.md).
package gnetv2
