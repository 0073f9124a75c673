package grpccompat

import (
	"net/http"
	"testing"

	"github.com/pollnet/pollnet/compat_test/internal/compat"
	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"
)

// TestServe: grpc.Server.Serve(pollnetListener), on a listener with a short
// IdleGrace (hibernation on: nothing may park, gRPC has no ConnState hook and
// speaks HTTP/2) and on a default one (hibernation off).
func TestServe(t *testing.T) {
	for _, m := range compat.PollnetModes {
		t.Run(m.String(), func(t *testing.T) {
			compat.CheckLeaks(t)
			ln := compat.Listen(t, m)
			svc := newService()
			srv := grpc.NewServer()
			testpb.RegisterTestServiceServer(srv, svc)
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			t.Cleanup(func() {
				srv.GracefulStop()
				if err := <-done; err != nil {
					t.Errorf("Serve returned %v", err)
				}
			})
			runSuite(t, ln, svc)
		})
	}
}

// TestServeHTTPH2C: grpc.Server as the handler of a net/http server speaking
// h2c (prior knowledge) with pollnet.Hibernate installed. The hook sees
// every connection, and the sniff must keep HTTP/2 from ever parking.
func TestServeHTTPH2C(t *testing.T) {
	for _, m := range compat.PollnetModes {
		t.Run(m.String(), func(t *testing.T) {
			compat.CheckLeaks(t)
			svc := newService()
			gs := grpc.NewServer()
			testpb.RegisterTestServiceServer(gs, svc)
			hs := compat.ServeHTTP(t, m, gs, nil, func(srv *http.Server) {
				srv.Protocols = new(http.Protocols)
				srv.Protocols.SetHTTP1(true)
				srv.Protocols.SetUnencryptedHTTP2(true)
			})
			runSuite(t, hs.Ln, svc)
		})
	}
}
