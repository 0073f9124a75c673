//go:build linux

package uring

import (
	"fmt"
	"unsafe"
)

const opSupported = 1 << 0

type probeOp struct {
	op    uint8
	resv  uint8
	flags uint16
	resv2 uint32
}

// probe is struct io_uring_probe with room for every opcode.
type probe struct {
	lastOp uint8
	opsLen uint8
	resv   uint16
	resv2  [3]uint32
	ops    [256]probeOp
}

// Probe asks the kernel which opcodes it supports (IORING_REGISTER_PROBE,
// Linux 5.6) and returns an error naming the first of ops it lacks.
func (r *Ring) Probe(ops ...uint8) error {
	var p probe
	if err := r.register(registerProbe, unsafe.Pointer(&p), uint32(len(p.ops))); err != nil {
		return &SetupError{Op: "IORING_REGISTER_PROBE", Err: err, Hint: "the probe needs Linux 5.6"}
	}
	for _, op := range ops {
		if int(op) >= int(p.opsLen) || p.ops[op].flags&opSupported == 0 {
			return &SetupError{Op: "IORING_REGISTER_PROBE", Err: fmt.Errorf("%w: opcode %d unsupported", ErrTooOld, op)}
		}
	}
	return nil
}
