//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

func loadOptions(opts ...Option) *Options {
	o := new(Options)
	for _, f := range opts {
		f(o)
	}
	return o
}

func ceilPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// normalize fills defaults in place (gnet v2's rules for the shared fields).
func (o *Options) normalize() {
	if o.EdgeTriggeredIOChunk > 0 {
		o.EdgeTriggeredIO = true
		o.EdgeTriggeredIOChunk = ceilPow2(o.EdgeTriggeredIOChunk)
	} else if o.EdgeTriggeredIO {
		o.EdgeTriggeredIOChunk = 1 << 20
	}
	fix := func(v int) int {
		switch {
		case v <= 0:
			return MaxStreamBufferCap
		case v <= 4096:
			return 4096
		default:
			return ceilPow2(v)
		}
	}
	o.ReadBufferCap = fix(o.ReadBufferCap)
	o.WriteBufferCap = fix(o.WriteBufferCap)
	if o.WriteHighWaterMark <= 0 {
		o.WriteHighWaterMark = DefaultWriteHighWaterMark
	}
	if o.WriteLowWaterMark <= 0 {
		o.WriteLowWaterMark = min(DefaultWriteLowWaterMark, o.WriteHighWaterMark/2)
	}
	o.WriteLowWaterMark = min(o.WriteLowWaterMark, o.WriteHighWaterMark)
	if o.OutboundHardCap < 0 {
		o.OutboundHardCap = 0
	}
}
