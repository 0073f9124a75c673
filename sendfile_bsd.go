//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package pollnet

import (
	"os"
)

// sendFile is not implemented on the BSDs yet: ReadFrom copies through user
// space there (README.md lists it under known limitations).
func sendFile(_, _ *os.File, _ int64) (int64, bool, error) { return 0, false, nil }
