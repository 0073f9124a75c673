// Package gnetsuite runs gnet v2's own test suite against pollnet's gnet/.
//
// TestGnetV2Suite takes gnet v2.9.7's root-package tests (gnet_test.go,
// client_test.go, os_unix_test.go) from the module cache at test time (they
// are never copied into this repository) and builds two test binaries:
//
//   - ours: a temporary copy of this repository's library (go.mod, gnet/,
//     internal/, without our own tests) with the three files added to gnet/,
//     their imports rewritten from github.com/panjf2000/gnet/v2 to
//     github.com/pollnet/pollnet/gnet (RewriteImports: import paths only,
//     nothing else changes);
//   - the control: a temporary copy of gnet v2.9.7 itself with the same three
//     files (their other test files removed).
//
// Both run the same shards of the suite at the same time, each shard in its
// own network namespace where the system allows it (the tests use fixed
// ports), else one after the other; the few tests that need the machine's
// real interfaces (multicast, SO_BINDTODEVICE) run in the host's namespace.
// With GNETSUITE_IOURING=1 the copy of ours runs every engine on io_uring
// (ForceIOUring) instead of epoll.
//
// The test then asserts that every leaf subtest passes on the control, and
// on ours every one except the documented deadline subtests
// (DeadlineSubtests): gnet v2 returns ErrUnsupportedOp from SetDeadline and
// the suite asserts that, while pollnet's gnet/ implements deadlines.
package gnetsuite
