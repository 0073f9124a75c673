//go:build linux && connbench_nopollnet

package main

// Built with -tags connbench_nopollnet: only the std server exists. This lets
// connbench be developed while the root package does not compile.
