package handovercompat

import (
	"os"
	"testing"
)

// TestMain runs the child process's part when the test binary is started as
// a child (childEnv set), and the tests otherwise.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}
