package handovercompat

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"

	"github.com/pollnet/pollnet/compat_test/internal/compat"
)

// load keeps clients requesting /pid until finish: some open a new
// connection per request (a refused connection would show at once), some
// keep theirs alive with pauses longer than the idle grace (they hibernate
// when the server hibernates). Every response's status and body are checked.
type load struct {
	stop chan struct{}
	wg   sync.WaitGroup

	mu   sync.Mutex
	errs []clientError
	pids map[string]int // answers per serving pid
}

// clientError is one failed request and what the transport knew of it.
type clientError struct {
	err    error
	kind   string // "new-connection-per-request" or "keep-alive"
	reused bool   // the request went on a connection used before
	at     time.Time
}

func (e clientError) String() string {
	return fmt.Sprintf("%s client at %s (connection reused %v): %v", e.kind, e.at.Format("15:04:05.000000"), e.reused, e.err)
}

func startLoad(url string, fresh, keepAlive int) *load {
	l := &load{stop: make(chan struct{}), pids: map[string]int{}}
	for i := range fresh + keepAlive {
		tr := &http.Transport{DisableKeepAlives: i < fresh}
		pause := 2 * time.Millisecond
		if i >= fresh {
			pause = 2 * compat.Grace
		}
		l.wg.Add(1)
		kind := "new-connection-per-request"
		if i >= fresh {
			kind = "keep-alive"
		}
		go l.run(&http.Client{Transport: tr, Timeout: 30 * time.Second}, url+"/pid", pause, kind)
	}
	return l
}

func (l *load) run(c *http.Client, url string, pause time.Duration, kind string) {
	defer l.wg.Done()
	defer c.Transport.(*http.Transport).CloseIdleConnections()
	for {
		select {
		case <-l.stop:
			return
		case <-time.After(pause):
		}
		// What the transport did with the connection, for error reports.
		var got httptrace.GotConnInfo
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) { got = info },
		})
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := c.Do(req)
		if err == nil {
			var body []byte
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && (resp.StatusCode != 200 || len(body) == 0) {
				err = fmt.Errorf("status %d, body %q", resp.StatusCode, body)
			}
			if err == nil {
				l.mu.Lock()
				l.pids[string(body)]++
				l.mu.Unlock()
				continue
			}
		}
		l.mu.Lock()
		l.errs = append(l.errs, clientError{err: err, kind: kind, reused: got.Reused, at: time.Now()})
		l.mu.Unlock()
	}
}

// answers returns how many responses pid has given so far.
func (l *load) answers(pid int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pids[fmt.Sprint(pid)]
}

// finish stops the clients and returns every error they met and the
// answers per pid.
func (l *load) finish() ([]clientError, map[string]int) {
	close(l.stop)
	l.wg.Wait()
	return l.errs, l.pids
}
