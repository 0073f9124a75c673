package main

import (
	"bufio"
	"bytes"
	"fmt"

	"net"
	"strconv"
	"sync"
	"time"
)

// idleConn is a keep-alive HTTP connection of the idle measurement.
type idleConn struct {
	c  net.Conn
	rd *bufio.Reader
}

var request = []byte("GET / HTTP/1.1\r\nHost: gnetio\r\n\r\n")

// roundTrip sends one request and reads the response.
func (ic *idleConn) roundTrip() error {
	ic.c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := ic.c.Write(request); err != nil {
		return err
	}
	length := -1
	for {
		line, err := ic.rd.ReadSlice('\n')
		if err != nil {
			return err
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
		if len(line) == 2 { // the blank line
			break
		}
	}
	if length < 0 {
		return fmt.Errorf("response without Content-Length")
	}
	_, err := ic.rd.Discard(length)
	return err
}

// idleConns opens n keep-alive connections to addr, from source addresses
// 127.0.0.2 and up (6,000 each, far from the ephemeral port range), each
// of which has answered one request.
func idleConns(addr string, n int) ([]*idleConn, error) {
	conns := make([]*idleConn, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	next := make(chan int)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i/6000))}}
				c, err := d.Dial("tcp", addr)
				if err == nil {
					conns[i] = &idleConn{c: c, rd: bufio.NewReaderSize(c, 256)}
					err = conns[i].roundTrip()
				}
				if err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		for _, ic := range conns {
			if ic != nil {
				ic.c.Close()
			}
		}
		return nil, first
	}
	return conns, nil
}

// idleRound measures server RSS per idle keep-alive connection at n.
func idleRound(b binaries, engine string, n int) map[string]float64 {
	s, err := start(b, engine, "http")
	must(err)
	defer s.stop()
	settle := func() float64 {
		must(s.gc())
		time.Sleep(time.Second)
		return rssBytes(s.pid())
	}
	rss0 := settle()
	conns, err := idleConns(s.addr, n)
	must(err)
	rss1 := settle()
	// Every connection must still answer: a figure from a server that
	// dropped connections is worthless.
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := i; j < n; j += 64 {
				if err := conns[j].roundTrip(); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	bad := 0
	for range errs {
		bad++
	}
	for _, ic := range conns {
		ic.c.Close()
	}
	if bad > 0 {
		must(fmt.Errorf("%s: %d of %d idle connections did not answer again", engine, bad, n))
	}
	per := (rss1 - rss0) / float64(n)
	fmt.Printf("  %-16s n=%d RSS %.1f MB -> %.1f MB: %.0f B per connection; all answered again\n", engine, n, rss0/1e6, rss1/1e6, per)
	return map[string]float64{fmt.Sprintf("0 RSS per idle connection at N = %d (B)", n): per}
}
