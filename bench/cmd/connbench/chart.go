//go:build linux

package main

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// chartSeries is one line of the memory chart.
type chartSeries struct {
	name   string
	points plotter.XYs
}

// chartColors tell the servers apart; dashes tell apart lines that overlap
// (std and pollnet-listener do).
var (
	chartColors = []color.RGBA{{0x1f, 0x77, 0xb4, 255}, {0xd6, 0x27, 0x28, 255}, {0x2c, 0xa0, 0x2c, 255},
		{0x94, 0x67, 0xbd, 255}, {0xff, 0x7f, 0x0e, 255}, {0x8c, 0x56, 0x4b, 255}, {0xe3, 0x77, 0xc2, 255}}
	chartDashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, nil, {vg.Points(2), vg.Points(2)}}
)

// memoryChart draws bytes per idle connection (log scale) against N, one
// line per server, and a horizontal target line, as an SVG document
// (gonum.org/v1/plot).
func memoryChart(title string, series []chartSeries, target float64) ([]byte, error) {
	p, err := memoryPlot(title, series, target)
	if err != nil {
		return nil, err
	}
	canvas := vgsvg.New(7*vg.Inch, 4.5*vg.Inch)
	p.Draw(draw.New(canvas))
	var b bytes.Buffer
	if _, err := canvas.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// memoryPlot lays out the memory chart.
func memoryPlot(title string, series []chartSeries, target float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "idle connections held (N)"
	p.Y.Label.Text = "server RSS per idle connection, bytes (log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Y.Min, p.Y.Max = 100, 1000 // at least these decades; grown to the data below
	p.X.Min = 0
	var ticks []plot.Tick
	p.Add(plotter.NewGrid())
	for i, s := range series {
		var pts plotter.XYs
		for _, xy := range s.points {
			if xy.Y > 0 { // a log scale has no room for 0 or less
				pts = append(pts, xy)
				p.Y.Min, p.Y.Max = min(p.Y.Min, xy.Y/1.5), max(p.Y.Max, xy.Y*1.5)
			}
			if i == 0 {
				ticks = append(ticks, plot.Tick{Value: xy.X, Label: thousands(xy.X)})
			}
		}
		if len(pts) == 0 {
			continue
		}
		line, marks, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, fmt.Errorf("chart series %s: %w", s.name, err)
		}
		c := chartColors[i%len(chartColors)]
		line.Color, marks.Color = c, c
		line.Dashes = chartDashes[i%len(chartDashes)]
		line.Width = vg.Points(1.5)
		p.Add(line, marks)
		p.Legend.Add(s.name, line, marks)
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	ref := plotter.NewFunction(func(float64) float64 { return target })
	ref.Color = color.Gray{Y: 0x60}
	ref.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	p.Add(ref)
	p.Legend.Add(fmt.Sprintf("target: %.0f B", target), ref)
	return p, nil
}

// chartSeries returns, per HTTP/1 server, the median RSS per connection at
// each N of the steps arrival.
func (r *report) chartSeries() []chartSeries {
	runs := r.metrics()
	var out []chartSeries
	for _, srv := range r.Servers["http"] {
		cs := chartSeries{name: srv}
		for _, n := range r.cfg.points {
			if s, ok := (measure{Quantity: fmt.Sprintf("rss_per_conn@%d", n)}).over(runs, "http-steps", srv); ok {
				cs.points = append(cs.points, plotter.XY{X: float64(n), Y: s.Median})
			}
		}
		if len(cs.points) > 0 {
			out = append(out, cs)
		}
	}
	return out
}
