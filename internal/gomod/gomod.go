// Package gomod reads what the repository's tools need from a go.mod text:
// the module path, by which the connbench launcher and connbench itself
// find the bench module and the repository root. A full parser
// (golang.org/x/mod/modfile) would be a dependency for one line.
package gomod

import (
	"bufio"
	"bytes"
	"strings"
)

// ModulePath returns the module path declared in a go.mod text, or "" when
// it declares none.
func ModulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
