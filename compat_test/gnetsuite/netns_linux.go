//go:build linux

package gnetsuite

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// execEnv carries, to a copy of this process started in a new namespace,
// the command it should become once the namespace's loopback is up.
const execEnv = "GNETSUITE_EXEC_IN_NETNS"

// isolatedCommand returns a command that runs args in a new user and
// network namespace: its own ports, so shards with fixed ports can run at
// the same time. The command is this binary, which brings the loopback up
// (MaybeExecInNetns) and then executes args.
func isolatedCommand(ctx context.Context, args []string) *exec.Cmd {
	self, _ := os.Executable()
	cmd := exec.CommandContext(ctx, self, "-test.run=^$")
	b, _ := json.Marshal(args)
	cmd.Env = append(os.Environ(), execEnv+"="+string(b))
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		Pdeathsig:   syscall.SIGKILL,
	}
	return cmd
}

// IsolationWorks reports whether isolatedCommand can run here (user
// namespaces may be disabled, or forbidden in a container).
func IsolationWorks() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := isolatedCommand(context.Background(), []string{self, "-test.run=^$"})
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// MaybeExecInNetns is called first in TestMain: in a copy of the process
// started by isolatedCommand it brings the loopback interface up and
// replaces itself with the requested command; otherwise it returns.
func MaybeExecInNetns() {
	v := os.Getenv(execEnv)
	if v == "" {
		return
	}
	var args []string
	if err := json.Unmarshal([]byte(v), &args); err != nil || len(args) == 0 {
		fmt.Fprintln(os.Stderr, "gnetsuite: bad", execEnv)
		os.Exit(2)
	}
	if err := loopbackUp(); err != nil {
		fmt.Fprintln(os.Stderr, "gnetsuite: loopback up:", err)
		os.Exit(2)
	}
	env := []string{}
	for _, e := range os.Environ() {
		if len(e) < len(execEnv) || e[:len(execEnv)] != execEnv {
			env = append(env, e)
		}
	}
	err := syscall.Exec(args[0], args, env)
	fmt.Fprintln(os.Stderr, "gnetsuite: exec:", err)
	os.Exit(2)
}

// loopbackUp sets IFF_UP on lo (a new network namespace starts with it down).
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}
