//go:build !linux

package gnetsuite

import (
	"context"
	"errors"
	"os/exec"
)

func isolatedCommand(ctx context.Context, args []string) *exec.Cmd {
	return exec.CommandContext(ctx, args[0], args[1:]...)
}

// IsolationWorks: network namespaces are Linux's.
func IsolationWorks() error { return errors.New("no network namespaces on this system") }

// MaybeExecInNetns does nothing here.
func MaybeExecInNetns() {}
