//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "connbench runs on Linux only: it reads /proc and uses Linux process controls")
	os.Exit(2)
}
