// Package uring is a small, pure-Go io_uring: ring setup and teardown, the
// submission and completion queues, SQE preparation for the operations
// pollnet's gnet/ engine needs, provided buffer rings and the opcode probe.
// It is Linux-only; on other systems the package is empty.
//
// # The shared-memory protocol
//
// The kernel and the process share three regions: the SQ ring (head, tail,
// flags and the index array), the CQ ring (head, tail and the CQEs) and the
// SQE array. Each index has exactly one writer:
//
//   - SQ tail: written by us, with a release store (atomic.StoreUint32)
//     after the SQEs it publishes are fully written. The kernel reads it with
//     an acquire load, so it never sees a half-written SQE.
//   - SQ head: written by the kernel as it consumes SQEs; we read it with an
//     acquire load and only reuse the SQE slots below it.
//   - CQ tail: written by the kernel (release) after the CQEs it publishes;
//     we read it with an acquire load before reading those CQEs.
//   - CQ head: written by us (release) after we have copied the CQEs out, so
//     the kernel never overwrites a CQE we have not read.
//
// A provided buffer ring follows the same rule: we write entries past the
// tail and then publish the tail with a release store; the kernel owns the
// entries between its head and that tail (and, in incremental mode, rewrites
// the address and length of the entry at its head).
//
// Go's sync/atomic operations are sequentially consistent, which is at least
// the acquire/release ordering the kernel's protocol asks for; ordinary
// loads and stores are used only for memory the other side does not own at
// that moment.
//
// # Memory an SQE points to
//
// Submitted operations refer to memory by address: buffers, iovecs, message
// headers. Go's heap does not move objects, but the collector frees what no
// Go value refers to, and stacks do move. So every address given to an SQE
// must be mmap'ed memory (the rings, the provided buffers) or heap memory the
// caller keeps referenced until the operation's last completion arrives.
// This package does not track that for its callers: the prep helpers take
// slices and pointers, and their callers pin them.
package uring
