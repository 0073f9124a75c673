package gomod

import "testing"

func TestModulePath(t *testing.T) {
	for text, want := range map[string]string{
		"// x\nmodule github.com/pollnet/pollnet\n\ngo 1.26\n": "github.com/pollnet/pollnet",
		"// c\nmodule \"example.com/x\"\n":                     "example.com/x",
		"go 1.26\n":                                            "",
	} {
		if got := ModulePath([]byte(text)); got != want {
			t.Errorf("ModulePath(%q) = %q, want %q", text, got, want)
		}
	}
}
