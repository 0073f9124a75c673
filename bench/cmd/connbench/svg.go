//go:build linux

package main

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strings"
)

// chartSeries is one line of the memory chart.
type chartSeries struct {
	Name   string
	Points []chartPoint
}

type chartPoint struct{ X, Y float64 }

// chartRef is a horizontal reference line (a target).
type chartRef struct {
	Y     float64
	Label string
}

var (
	chartColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"}
	// Dashes tell apart lines that overlap (std and pollnet-listener do).
	chartDashes = []string{"", "7 4", "", "3 3", "7 3 2 3", "", "7 4", "3 3"}
)

// renderMemoryChart draws bytes per idle connection (log scale) against N,
// one line per series, and the reference lines, as a self-contained SVG
// document.
func renderMemoryChart(title string, series []chartSeries, refs []chartRef) string {
	const (
		width, height              = 760, 440
		left, right, top, bottom   = 80, 190, 50, 60
		plotW, plotH               = width - left - right, height - top - bottom
		minDecade, maxDecadeBounds = 1.0, 7.0
	)
	maxX, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
	xs := map[float64]bool{}
	for _, r := range refs {
		lo, hi = math.Min(lo, r.Y), math.Max(hi, r.Y)
	}
	for _, s := range series {
		for _, p := range s.Points {
			xs[p.X] = true
			maxX = math.Max(maxX, p.X)
			if p.Y > 0 {
				lo = math.Min(lo, p.Y)
				hi = math.Max(hi, p.Y)
			}
		}
	}
	if maxX <= 0 {
		maxX = 1
	}
	if math.IsInf(lo, 1) || lo <= 0 {
		lo, hi = 100, 100000
	}
	d0 := math.Max(minDecade, math.Floor(math.Log10(lo)))
	d1 := math.Min(maxDecadeBounds, math.Ceil(math.Log10(hi)))
	if d1 <= d0 {
		d1 = d0 + 1
	}
	x := func(v float64) float64 { return left + v/maxX*plotW }
	y := func(v float64) float64 {
		if v <= 0 {
			v = math.Pow(10, d0)
		}
		l := math.Max(d0, math.Min(d1, math.Log10(v)))
		return top + (d1-l)/(d1-d0)*plotH
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))
	// Y grid: decades, labelled, with 2x and 5x minor lines.
	for d := d0; d <= d1; d++ {
		v := math.Pow(10, d)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ccc"/>`+"\n", left, y(v), left+plotW, y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y(v)+4, decadeLabel(v))
		for _, m := range []float64{2, 5} {
			if d < d1 {
				fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>`+"\n", left, y(m*v), left+plotW, y(m*v))
			}
		}
	}
	// X axis: a tick at 0 and at every measured N.
	var ticks []float64
	for v := range xs {
		ticks = append(ticks, v)
	}
	sort.Float64s(ticks)
	if len(ticks) == 0 || ticks[0] > maxX*0.1 { // 0 only where its label has room
		ticks = append([]float64{0}, ticks...)
	}
	for _, v := range ticks {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#999"/>`+"\n", x(v), top+plotH, x(v), top+plotH+5)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(v), top+plotH+20, thousands(int64(math.Round(v))))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n", left, top, plotW, plotH)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">idle keep-alive connections (N)</text>`+"\n", left+plotW/2, height-16)
	fmt.Fprintf(&b, `<text x="18" y="%d" text-anchor="middle" transform="rotate(-90 18 %d)">server RSS per idle connection (log scale)</text>`+"\n", top+plotH/2, top+plotH/2)
	for _, r := range refs {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#555" stroke-dasharray="2 4"/>`+"\n", left, y(r.Y), left+plotW, y(r.Y))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" fill="#555">%s</text>`+"\n", left+4, y(r.Y)-4, html.EscapeString(r.Label))
	}
	for i, s := range series {
		color := chartColors[i%len(chartColors)]
		dash := ""
		if d := chartDashes[i%len(chartDashes)]; d != "" {
			dash = ` stroke-dasharray="` + d + `"`
		}
		var pts []string
		for _, p := range s.Points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.X), y(p.Y)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", color, dash, strings.Join(pts, " "))
		for _, p := range s.Points {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s: N=%s, %s per connection</title></circle>`+"\n",
				x(p.X), y(p.Y), color, html.EscapeString(s.Name), thousands(int64(p.X)), bytesLabel(p.Y))
		}
		ly := top + 10 + i*20
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", left+plotW+14, ly, left+plotW+34, ly, color, dash)
		last := ""
		if n := len(s.Points); n > 0 {
			last = " (" + bytesLabel(s.Points[n-1].Y) + ")"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", left+plotW+40, ly+4, html.EscapeString(s.Name+last))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// bytesLabel formats a byte count compactly: 512 B, 1.2 KB, 19 KB.
func bytesLabel(v float64) string {
	switch {
	case v < 1000:
		return fmt.Sprintf("%.0f B", v)
	case v < 10000:
		return fmt.Sprintf("%.1f KB", v/1000)
	case v < 1e6:
		return fmt.Sprintf("%.0f KB", v/1000)
	default:
		return fmt.Sprintf("%.1f MB", v/1e6)
	}
}

// decadeLabel labels a power of ten: 100 B, 1 KB, 10 KB, 1 MB.
func decadeLabel(v float64) string {
	switch {
	case v < 1000:
		return fmt.Sprintf("%.0f B", v)
	case v < 1e6:
		return fmt.Sprintf("%.0f KB", v/1000)
	default:
		return fmt.Sprintf("%.0f MB", v/1e6)
	}
}

// thousands formats n with comma separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
