package gnetsuite

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// DeadlineSubtests are the leaf subtests of the suite that fail on pollnet's
// gnet/, and only because deadlines work there: testServer.OnTraffic (in
// gnet_test.go) asserts that SetDeadline, SetReadDeadline and
// SetWriteDeadline return ErrUnsupportedOp on TCP and unix connections when
// the engine has one event loop. gnet/README.md's difference table lists
// them. The suite test asserts that exactly these fail, and only at those
// assertions (DeadlineAssertions).
var DeadlineSubtests = []string{
	"TestServer/poll-ET-chunk/tcp/1-loop",
	"TestServer/poll-ET-chunk/unix/1-loop",
	"TestServer/poll-ET/tcp/1-loop",
	"TestServer/poll-ET/unix/1-loop",
	"TestServer/poll-LT/tcp/1-loop",
	"TestServer/poll-LT/unix/1-loop",
	"TestServer/poll-multi-addrs-ET/sync-writev/1-loop",
	"TestServer/poll-multi-addrs-ET/sync/1-loop",
	"TestServer/poll-multi-addrs-LT/sync-writev/1-loop",
	"TestServer/poll-multi-addrs-LT/sync/1-loop",
	"TestServer/poll-multi-addrs-reuseport-ET/sync-writev/1-loop",
	"TestServer/poll-multi-addrs-reuseport-ET/sync/1-loop",
	"TestServer/poll-multi-addrs-reuseport-LT/sync-writev/1-loop",
	"TestServer/poll-multi-addrs-reuseport-LT/sync/1-loop",
	"TestServer/poll-reuseport-ET/tcp/1-loop",
	"TestServer/poll-reuseport-ET/unix/1-loop",
	"TestServer/poll-reuseport-LT/tcp/1-loop",
	"TestServer/poll-reuseport-LT/unix/1-loop",
}

// DeadlineAssertions returns the places ("gnet_test.go:N") of the suite's
// assertions that deadline setters return ErrUnsupportedOp.
func DeadlineAssertions(gnetTest []byte) []string {
	var at []string
	sc := bufio.NewScanner(bytes.NewReader(gnetTest))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.Contains(line, "ErrUnsupportedOp") &&
			(strings.Contains(line, "SetDeadline(") || strings.Contains(line, "SetReadDeadline(") || strings.Contains(line, "SetWriteDeadline(")) {
			at = append(at, fmt.Sprintf("gnet_test.go:%d", n))
		}
	}
	return at
}
