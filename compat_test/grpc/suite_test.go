package grpccompat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/pollnet/pollnet/compat_test/internal/compat"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
)

// concurrentRPCs is how many RPCs run at once in the concurrency check,
// spread over clientConns TCP connections.
const (
	concurrentRPCs = 200
	clientConns    = 4
)

// dial opens a gRPC client connection to addr over plaintext HTTP/2.
func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

// runSuite exercises every kind of RPC against the server at ln, then closes
// its clients and checks that the listener holds no socket and never parked.
func runSuite(t *testing.T, ln net.Listener, svc *service) {
	cc := dial(t, ln.Addr().String())
	client := testpb.NewTestServiceClient(cc)

	t.Run("unary", func(t *testing.T) { unary(t, client) })
	time.Sleep(compat.IdlePause) // idle HTTP/2 connection: must stay as it is
	t.Run("unary-after-idle", func(t *testing.T) { unary(t, client) })
	t.Run("server-streaming", func(t *testing.T) { serverStreaming(t, client) })
	t.Run("client-streaming", func(t *testing.T) { clientStreaming(t, client) })
	t.Run("bidi-streaming", func(t *testing.T) { bidiStreaming(t, client) })
	t.Run("deadline", func(t *testing.T) { deadline(t, client, svc) })
	t.Run("cancellation", func(t *testing.T) { cancellation(t, client, svc) })
	t.Run("concurrent", func(t *testing.T) { concurrent(t, ln.Addr().String()) })

	if err := cc.Close(); err != nil {
		t.Error(err)
	}
	compat.WaitDrained(t, ln)
	if s := compat.Stats(ln); s.Parks != 0 {
		t.Errorf("an HTTP/2 (gRPC) connection parked: %+v", s)
	}
}

func unary(t *testing.T, client testpb.TestServiceClient) {
	for _, n := range []int{0, 1, 1000, 64 << 10, 1 << 20} {
		body := pattern(n, byte(n))
		resp, err := client.UnaryCall(t.Context(), &testpb.SimpleRequest{Payload: &testpb.Payload{Body: body}})
		if err != nil {
			t.Fatalf("unary %d bytes: %v", n, err)
		}
		if !bytes.Equal(resp.GetPayload().GetBody(), body) {
			t.Fatalf("unary %d bytes: echoed body differs (%d bytes back)", n, len(resp.GetPayload().GetBody()))
		}
	}
	if _, err := client.EmptyCall(t.Context(), &testpb.Empty{}); err != nil {
		t.Fatal(err)
	}
}

func serverStreaming(t *testing.T, client testpb.TestServiceClient) {
	var params []*testpb.ResponseParameters
	for i := range 40 {
		p := &testpb.ResponseParameters{Size: int32(i * 409)}
		if i == 20 {
			p.IntervalUs = int32(compat.IdlePause / time.Microsecond) // an idle pause mid-stream
		}
		params = append(params, p)
	}
	stream, err := client.StreamingOutputCall(t.Context(), &testpb.StreamingOutputCallRequest{ResponseParameters: params})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range params {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(resp.GetPayload().GetBody(), pattern(int(p.Size), byte(i))) {
			t.Fatalf("message %d: body differs", i)
		}
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last message: %v, want io.EOF", err)
	}
}

func clientStreaming(t *testing.T, client testpb.TestServiceClient) {
	stream, err := client.StreamingInputCall(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i := range 40 {
		body := pattern(i*409, byte(i))
		total += len(body)
		if err := stream.Send(&testpb.StreamingInputCallRequest{Payload: &testpb.Payload{Body: body}}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if i == 20 {
			time.Sleep(compat.IdlePause)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatal(err)
	}
	if int(resp.AggregatedPayloadSize) != total {
		t.Fatalf("server counted %d bytes, sent %d", resp.AggregatedPayloadSize, total)
	}
}

func bidiStreaming(t *testing.T, client testpb.TestServiceClient) {
	stream, err := client.FullDuplexCall(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		body := pattern(i*409, byte(i))
		if err := stream.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: body}}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("recv %d: %v", i, err)
		}
		if !bytes.Equal(resp.GetPayload().GetBody(), body) {
			t.Fatalf("message %d: echo differs", i)
		}
		if i == 20 {
			time.Sleep(compat.IdlePause)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("after CloseSend: %v, want io.EOF", err)
	}
}

// deadline: a call that outlives its deadline fails with DeadlineExceeded on
// the client, and the server's context ends too.
func deadline(t *testing.T, client testpb.TestServiceClient, svc *service) {
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := client.UnaryCall(ctx, &testpb.SimpleRequest{ResponseSize: hangSize})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("client: %v, want DeadlineExceeded", err)
	}
	waitEnded(t, svc, "the deadline")
}

// cancellation: cancelling a server stream mid-way ends it on both sides.
func cancellation(t *testing.T, client testpb.TestServiceClient, svc *service) {
	ctx, cancel := context.WithCancel(t.Context())
	stream, err := client.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := stream.Recv(); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	cancel()
	for {
		if _, err := stream.Recv(); err != nil {
			if status.Code(err) != codes.Canceled {
				t.Fatalf("after cancel: %v, want Canceled", err)
			}
			break
		}
	}
	waitEnded(t, svc, "the cancellation")
}

func waitEnded(t *testing.T, svc *service, what string) {
	t.Helper()
	select {
	case err := <-svc.ended:
		if err == nil {
			t.Fatalf("server context ended without an error after %s", what)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the server never saw %s", what)
	}
}

// concurrent runs concurrentRPCs RPCs at once (unary and bidi, mixed) over
// clientConns connections.
func concurrent(t *testing.T, addr string) {
	var clients []testpb.TestServiceClient
	for range clientConns {
		cc := dial(t, addr)
		defer cc.Close()
		clients = append(clients, testpb.NewTestServiceClient(cc))
	}
	errs := compat.Concurrently(concurrentRPCs, func(i int) error {
		if err := oneRPC(t.Context(), clients[i%len(clients)], i); err != nil {
			return fmt.Errorf("rpc %d: %w", i, err)
		}
		return nil
	})
	for _, err := range errs {
		t.Error(err)
	}
}

func oneRPC(ctx context.Context, client testpb.TestServiceClient, i int) error {
	body := pattern(4<<10+i, byte(i))
	if i%2 == 0 {
		resp, err := client.UnaryCall(ctx, &testpb.SimpleRequest{Payload: &testpb.Payload{Body: body}})
		if err != nil {
			return err
		}
		if !bytes.Equal(resp.GetPayload().GetBody(), body) {
			return errors.New("unary echo differs")
		}
		return nil
	}
	stream, err := client.FullDuplexCall(ctx)
	if err != nil {
		return err
	}
	for j := range 3 {
		if err := stream.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: body}}); err != nil {
			return err
		}
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		if !bytes.Equal(resp.GetPayload().GetBody(), body) {
			return fmt.Errorf("bidi echo %d differs", j)
		}
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("after CloseSend: %v", err)
	}
	return nil
}
