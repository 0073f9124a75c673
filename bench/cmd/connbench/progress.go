//go:build linux

package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// console is where the orchestrator tells people what it does: log lines
// always; progress bars (github.com/vbauerster/mpb) only on a terminal, so
// that CI logs and redirected output stay plain lines.
type console struct {
	mu   sync.Mutex
	w    io.Writer
	bars *mpb.Progress // nil when w is not a terminal
}

func newConsole(w io.Writer) *console {
	c := &console{w: w}
	if f, ok := w.(*os.File); ok && isTerminal(f) {
		c.bars = mpb.New(mpb.WithOutput(f), mpb.WithWidth(40))
	}
	return c
}

// logf prints one line, above the bars when there are any.
func (c *console) logf(format string, a ...any) {
	line := fmt.Sprintf("connbench: "+format+"\n", a...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bars != nil {
		_, _ = c.bars.Write([]byte(line))
		return
	}
	_, _ = io.WriteString(c.w, line)
}

// progressBar follows one client command's "PROGRESS done total" lines.
type progressBar struct{ b *mpb.Bar }

// bar starts a bar labelled label; it is a no-op without a terminal.
func (c *console) bar(label string) *progressBar {
	if c.bars == nil {
		return &progressBar{}
	}
	return &progressBar{b: c.bars.AddBar(0, mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(decor.Name(label+" ")),
		mpb.AppendDecorators(decor.CountersNoUnit("%d / %d")))}
}

func (p *progressBar) update(done, total int64) {
	if p.b != nil {
		p.b.SetTotal(total, false)
		p.b.SetCurrent(done)
	}
}

// done removes the bar.
func (p *progressBar) done() {
	if p.b != nil {
		p.b.Abort(true)
		p.b.Wait()
	}
}

// close stops drawing; later log lines go straight to the writer.
func (c *console) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bars != nil {
		c.bars.Shutdown()
		c.bars = nil
	}
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
