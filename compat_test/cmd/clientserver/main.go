// Command clientserver is the small demo server that compat_test/clients.sh
// drives with real clients (curl, wrk, h2load). It serves the same routes
// on two listeners:
//
//	plain: HTTP/1.1 and h2c (prior knowledge and Upgrade, through x/net's
//	       h2c handler), with idle hibernation (pollnet.Hibernate)
//	tls:   HTTP/1.1 and h2 by ALPN, self-signed certificate, with idle
//	       hibernation of HTTP/1.1 (pollnet.ServeServerTLS; srv.ServeTLS
//	       with -std)
//
// With -std it listens with std net instead, for comparison. Once serving,
// it writes "plain=ADDR tls=ADDR" to the -addr-file, and it shuts down on
// SIGTERM or SIGINT.
//
// Routes:
//
//	/hello   "hello"
//	/echo    the request body back (its SHA-256 in X-Body-Sha256)
//	/big     bigSize bytes: the line bigLine repeated (what
//	         `yes LINE | head -c SIZE` prints)
//	/stats   the plain listener's pollnet.Stats as JSON ({} with -std)
//	/tlsstats  the same for the tls listener
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pollnet/pollnet"
	"github.com/pollnet/pollnet/compat_test/internal/compat"
)

func main() {
	std := flag.Bool("std", false, "listen with std net instead of pollnet")
	grace := flag.Duration("grace", 50*time.Millisecond, "pollnet IdleGrace of the plain listener")
	addrFile := flag.String("addr-file", "", "file to write the listening addresses to")
	flag.Parse()
	if err := run(*std, *grace, *addrFile); err != nil {
		log.Fatal(err)
	}
}

func run(std bool, grace time.Duration, addrFile string) error {
	plainLn, tlsLn, err := listen(std, grace)
	if err != nil {
		return err
	}
	pair, err := compat.SelfSigned() // clients use -k / --insecure
	if err != nil {
		return err
	}
	stats := func(ln net.Listener) func() any {
		return func() any {
			if pl, ok := ln.(*pollnet.Listener); ok {
				return pl.Stats()
			}
			return struct{}{}
		}
	}
	handler := func() http.Handler { return routes(stats(plainLn), stats(tlsLn)) }
	plainSrv := &http.Server{Handler: h2cHandler(handler()), ReadHeaderTimeout: 10 * time.Second}
	pollnet.Hibernate(plainSrv) // does nothing on a std listener
	tlsSrv := &http.Server{
		Handler:           handler(),
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         pair.ServerConfig(),
	}
	errc := make(chan error, 2)
	go func() { errc <- plainSrv.Serve(plainLn) }()
	go func() { errc <- pollnet.ServeServerTLS(tlsSrv, tlsLn, "", "") }() // srv.ServeTLS on a std listener

	addrs := fmt.Sprintf("plain=%s tls=%s\n", plainLn.Addr(), tlsLn.Addr())
	if addrFile != "" {
		// Write then rename: the script never reads half a line.
		if err := os.WriteFile(addrFile+".tmp", []byte(addrs), 0o644); err != nil {
			return err
		}
		if err := os.Rename(addrFile+".tmp", addrFile); err != nil {
			return err
		}
	}
	fmt.Print(addrs)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-sig:
	case err := <-errc:
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = errors.Join(plainSrv.Shutdown(ctx), tlsSrv.Shutdown(ctx))
	return err
}

// listen opens the two loopback listeners on free ports.
func listen(std bool, grace time.Duration) (plain, tlsLn net.Listener, err error) {
	if std {
		if plain, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, nil, err
		}
		tlsLn, err = net.Listen("tcp", "127.0.0.1:0")
		return plain, tlsLn, err
	}
	lc := pollnet.ListenConfig{IdleGrace: grace}
	if plain, err = lc.Listen(context.Background(), "tcp", "127.0.0.1:0"); err != nil {
		return nil, nil, err
	}
	tlsLn, err = lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	return plain, tlsLn, err
}
