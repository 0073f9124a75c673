// Package logging is gnet v2's pkg/logging (v2.9.7) on the standard library's
// log/slog instead of zap: the same functions (Debugf, Infof, Warnf, Errorf,
// Fatalf, Error, GetDefaultLogger, GetDefaultFlusher,
// SetDefaultLoggerAndFlusher, LogLevel, CreateLoggerAsLocalFile, Cleanup) and
// types (Level and its constants, Logger, Flusher), so a gnet v2 program
// switches by changing its import path.
//
// The default logger writes text records (log/slog's TextHandler) to
// standard output at InfoLevel. As in gnet v2, the environment variable
// GNET_LOGGING_LEVEL (an integer, DebugLevel = -1 ... FatalLevel = 5) sets
// its level, and GNET_LOGGING_FILE sends it to a file instead.
//
// Engines take their logger from gnet.WithLogger, or build one with
// CreateLoggerAsLocalFile from gnet.WithLogPath and gnet.WithLogLevel, or
// else use the default; like gnet v2, Run, Rotate and NewClient install the
// logger they use as this package's default.
//
// Unlike zap's, a Level here is not a zapcore.Level: programs that pass a
// zapcore.Level where a Level is expected convert it (both are int8 with
// the same values). Any value with the Logger methods, including a zap
// SugaredLogger, can be given to gnet.WithLogger.
package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Level is a logging priority. Higher levels are more important. The values
// are zap's (and gnet v2's).
type Level int8

// The levels, lowest first.
const (
	// DebugLevel logs are voluminous and usually disabled in production.
	DebugLevel Level = iota - 1
	// InfoLevel is the default logging priority.
	InfoLevel
	// WarnLevel logs are more important than Info, but need no human review.
	WarnLevel
	// ErrorLevel logs are high-priority.
	ErrorLevel
	// DPanicLevel logs are particularly important errors.
	DPanicLevel
	// PanicLevel logs a message (no panic here: Logger has no Panicf).
	PanicLevel
	// FatalLevel logs a message; Fatalf then calls os.Exit(1).
	FatalLevel
)

// String returns the lower-case name of the level, as zap does.
func (l Level) String() string {
	switch l {
	case DebugLevel:
		return "debug"
	case InfoLevel:
		return "info"
	case WarnLevel:
		return "warn"
	case ErrorLevel:
		return "error"
	case DPanicLevel:
		return "dpanic"
	case PanicLevel:
		return "panic"
	case FatalLevel:
		return "fatal"
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// SlogLevel is the log/slog level records of this level are logged at:
// DebugLevel is slog.LevelDebug, InfoLevel slog.LevelInfo, WarnLevel
// slog.LevelWarn, ErrorLevel slog.LevelError, and each level above is 4
// higher.
func (l Level) SlogLevel() slog.Level { return slog.Level(4 * int(l)) }

// Logger is used for logging formatted messages.
type Logger interface {
	// Debugf logs messages at DEBUG level.
	Debugf(format string, args ...any)
	// Infof logs messages at INFO level.
	Infof(format string, args ...any)
	// Warnf logs messages at WARN level.
	Warnf(format string, args ...any)
	// Errorf logs messages at ERROR level.
	Errorf(format string, args ...any)
	// Fatalf logs messages at FATAL level, then exits the process.
	Fatalf(format string, args ...any)
}

// Flusher writes out any buffered log records; call it before the process
// exits.
type Flusher = func() error

var (
	mu             sync.RWMutex
	defaultLogger  Logger
	defaultFlusher Flusher
	defaultLevel   Level
)

func init() {
	if v := os.Getenv("GNET_LOGGING_LEVEL"); v != "" {
		n, err := strconv.ParseInt(v, 10, 8)
		if err != nil {
			panic("invalid GNET_LOGGING_LEVEL, " + err.Error())
		}
		defaultLevel = Level(n)
	}
	if path := os.Getenv("GNET_LOGGING_FILE"); path != "" {
		var err error
		defaultLogger, defaultFlusher, err = CreateLoggerAsLocalFile(path, defaultLevel)
		if err != nil {
			panic("invalid GNET_LOGGING_FILE, " + err.Error())
		}
		return
	}
	defaultLogger = NewLogger(os.Stdout, defaultLevel)
}

// NewLogger returns a Logger writing text records of level lvl and above to
// w (log/slog's TextHandler).
func NewLogger(w io.Writer, lvl Level) Logger {
	return FromSlog(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl.SlogLevel()})))
}

// FromSlog adapts a *slog.Logger to Logger: each call logs one record whose
// message is the formatted text, at the level's SlogLevel.
func FromSlog(l *slog.Logger) Logger { return slogLogger{l} }

type slogLogger struct{ l *slog.Logger }

func (s slogLogger) log(lvl Level, format string, args []any) {
	ctx := context.Background()
	if s.l.Enabled(ctx, lvl.SlogLevel()) { // format only what is written
		s.l.Log(ctx, lvl.SlogLevel(), fmt.Sprintf(format, args...))
	}
}

func (s slogLogger) Debugf(format string, args ...any) { s.log(DebugLevel, format, args) }
func (s slogLogger) Infof(format string, args ...any)  { s.log(InfoLevel, format, args) }
func (s slogLogger) Warnf(format string, args ...any)  { s.log(WarnLevel, format, args) }
func (s slogLogger) Errorf(format string, args ...any) { s.log(ErrorLevel, format, args) }
func (s slogLogger) Fatalf(format string, args ...any) {
	s.log(FatalLevel, format, args)
	os.Exit(1)
}

// GetDefaultLogger returns the default logger.
func GetDefaultLogger() Logger {
	mu.RLock()
	defer mu.RUnlock()
	return defaultLogger
}

// GetDefaultFlusher returns the default logger's flusher (nil if none).
func GetDefaultFlusher() Flusher {
	mu.RLock()
	defer mu.RUnlock()
	return defaultFlusher
}

// SetDefaultLoggerAndFlusher replaces the default logger and its flusher. A
// nil logger silences the package-level functions.
func SetDefaultLoggerAndFlusher(logger Logger, flusher Flusher) {
	mu.Lock()
	defaultLogger, defaultFlusher = logger, flusher
	mu.Unlock()
}

// LogLevel returns the default logging level's name in upper case.
func LogLevel() string { return strings.ToUpper(defaultLevel.String()) }

// CreateLoggerAsLocalFile returns a logger that appends text records of
// level logLevel and above to the file at localFilePath, and its flusher.
// The file is opened on the first record and closed by the flusher (the
// next record opens it again), so a flushed logger holds no descriptor.
func CreateLoggerAsLocalFile(localFilePath string, logLevel Level) (logger Logger, flush func() error, err error) {
	if localFilePath == "" {
		return nil, nil, errors.New("invalid local logger path")
	}
	w := &fileWriter{path: localFilePath}
	return NewLogger(w, logLevel), w.flush, nil
}

// fileWriter appends to a file it opens lazily; flush syncs and closes it.
type fileWriter struct {
	mu   sync.Mutex
	path string
	f    *os.File
}

func (w *fileWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return 0, err
		}
		w.f = f
	}
	return w.f.Write(p)
}

func (w *fileWriter) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	return err
}

// Cleanup flushes the default logger (closing its file, if it has one).
func Cleanup() {
	mu.RLock()
	flush := defaultFlusher
	mu.RUnlock()
	if flush != nil {
		_ = flush()
	}
}

// Error logs err at ERROR level if it is not nil.
func Error(err error) {
	if err != nil {
		Errorf("error occurs during runtime, %v", err)
	}
}

// Debugf logs a message at DEBUG level with the default logger.
func Debugf(format string, args ...any) { withDefault(func(l Logger) { l.Debugf(format, args...) }) }

// Infof logs a message at INFO level with the default logger.
func Infof(format string, args ...any) { withDefault(func(l Logger) { l.Infof(format, args...) }) }

// Warnf logs a message at WARN level with the default logger.
func Warnf(format string, args ...any) { withDefault(func(l Logger) { l.Warnf(format, args...) }) }

// Errorf logs a message at ERROR level with the default logger.
func Errorf(format string, args ...any) { withDefault(func(l Logger) { l.Errorf(format, args...) }) }

// Fatalf logs a message at FATAL level with the default logger, then exits.
func Fatalf(format string, args ...any) {
	withDefault(func(l Logger) { l.Fatalf(format, args...) })
	os.Exit(1)
}

// withDefault calls f with the default logger, if there is one.
func withDefault(f func(Logger)) {
	if l := GetDefaultLogger(); l != nil {
		f(l)
	}
}
