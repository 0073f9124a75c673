package logging

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLevelFilterAndText(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogger(&buf, WarnLevel)
	l.Debugf("d %d", 1)
	l.Infof("i %d", 2)
	l.Warnf("w %d", 3)
	l.Errorf("e %d", 4)
	out := buf.String()
	if strings.Contains(out, "d 1") || strings.Contains(out, "i 2") {
		t.Errorf("records below WarnLevel written:\n%s", out)
	}
	if !strings.Contains(out, `level=WARN msg="w 3"`) || !strings.Contains(out, `level=ERROR msg="e 4"`) {
		t.Errorf("missing records:\n%s", out)
	}
}

func TestLevelNames(t *testing.T) {
	names := map[Level]string{DebugLevel: "debug", InfoLevel: "info", WarnLevel: "warn", ErrorLevel: "error",
		DPanicLevel: "dpanic", PanicLevel: "panic", FatalLevel: "fatal", Level(9): "Level(9)"}
	for l, want := range names {
		if l.String() != want {
			t.Errorf("%d.String() = %q, want %q", l, l.String(), want)
		}
	}
	if DebugLevel.SlogLevel() != -4 || ErrorLevel.SlogLevel() != 8 {
		t.Error("slog level mapping changed")
	}
}

func TestDefaultLoggerSwap(t *testing.T) {
	l0, f0 := GetDefaultLogger(), GetDefaultFlusher()
	defer SetDefaultLoggerAndFlusher(l0, f0)
	var buf bytes.Buffer
	flushed := 0
	SetDefaultLoggerAndFlusher(NewLogger(&buf, DebugLevel), func() error { flushed++; return nil })
	Debugf("a %s", "b")
	Infof("c")
	Warnf("d")
	Errorf("e")
	Error(nil)
	Error(errors.New("boom"))
	Cleanup()
	for _, s := range []string{"a b", "msg=c", "msg=d", "msg=e", "boom"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("%q not logged:\n%s", s, buf.String())
		}
	}
	if strings.Count(buf.String(), "\n") != 5 {
		t.Errorf("Error(nil) logged something:\n%s", buf.String())
	}
	if flushed != 1 {
		t.Errorf("Cleanup flushed %d times", flushed)
	}
	SetDefaultLoggerAndFlusher(nil, nil) // silenced, not a crash
	Infof("nothing")
	Cleanup()
	if LogLevel() != "INFO" && os.Getenv("GNET_LOGGING_LEVEL") == "" {
		t.Errorf("LogLevel() = %s", LogLevel())
	}
}

func TestCreateLoggerAsLocalFile(t *testing.T) {
	if _, _, err := CreateLoggerAsLocalFile("", InfoLevel); err == nil {
		t.Fatal("empty path accepted")
	}
	path := filepath.Join(t.TempDir(), "gnet.log")
	l, flush, err := CreateLoggerAsLocalFile(path, InfoLevel)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("file created before the first record")
	}
	l.Debugf("hidden")
	l.Infof("first")
	if err := flush(); err != nil {
		t.Fatal(err)
	}
	l.Errorf("after flush") // reopens
	if err := flush(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, "first") || !strings.Contains(s, "after flush") || strings.Contains(s, "hidden") {
		t.Fatalf("file holds:\n%s", s)
	}
}
