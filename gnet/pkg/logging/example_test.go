package logging_test

import (
	"log/slog"
	"os"

	"github.com/pollnet/pollnet/gnet/pkg/logging"
)

// A program routes gnet's package-level logging to its own slog handler.
func Example() {
	h := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // stable output for the example
			}
			return a
		},
	})
	old, oldFlush := logging.GetDefaultLogger(), logging.GetDefaultFlusher()
	defer logging.SetDefaultLoggerAndFlusher(old, oldFlush)
	logging.SetDefaultLoggerAndFlusher(logging.FromSlog(slog.New(h)), nil)

	logging.Infof("listening on %s", ":9000")
	logging.Debugf("not shown: the handler's level is Info")
	// Output: level=INFO msg="listening on :9000"
}
