// Package logging mirrors the parts of gnet v2's pkg/logging that programs
// pass to the engine (Level and its constants, the Logger interface), so a
// gnet v2 program that sets a log level switches by changing its imports.
// pollnet's gnet logs nothing by itself: it reports only to a Logger given
// with gnet.WithLogger, and the level is kept for source compatibility.
package logging

// Level is a logging priority, ordered as in gnet v2 (zap's levels).
type Level int8

// The levels, lowest first.
const (
	DebugLevel Level = iota - 1
	InfoLevel
	WarnLevel
	ErrorLevel
	DPanicLevel
	PanicLevel
	FatalLevel
)

// Logger is the logger interface of gnet v2.
type Logger interface {
	Debugf(format string, args ...any)
	Infof(format string, args ...any)
	Warnf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}
