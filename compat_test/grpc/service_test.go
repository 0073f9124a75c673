package grpccompat

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
)

// hangSize in a SimpleRequest.ResponseSize makes UnaryCall wait for its
// context to end, and report how it ended on service.ended.
const hangSize = -1

// service implements grpc.testing.TestService for these suites: it echoes
// payloads, streams generated ones, and reports how hanging calls ended.
type service struct {
	testpb.UnimplementedTestServiceServer
	ended chan error // ctx.Err() of calls that waited for their context
}

func newService() *service { return &service{ended: make(chan error, 16)} }

// pattern returns n bytes that depend on seed, so a misplaced or reordered
// chunk shows.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

func (s *service) EmptyCall(context.Context, *testpb.Empty) (*testpb.Empty, error) {
	return &testpb.Empty{}, nil
}

// UnaryCall echoes the payload, or hangs until the context ends.
func (s *service) UnaryCall(ctx context.Context, req *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	if req.ResponseSize == hangSize {
		<-ctx.Done()
		s.ended <- ctx.Err()
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	return &testpb.SimpleResponse{Payload: req.Payload}, nil
}

// StreamingOutputCall sends one message per ResponseParameters, of that size
// and after that interval. With no parameters it streams until the client
// cancels, and reports the cancellation on s.ended.
func (s *service) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, stream testpb.TestService_StreamingOutputCallServer) error {
	if len(req.ResponseParameters) == 0 {
		for i := 0; ; i++ {
			if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: pattern(1024, byte(i))}}); err != nil {
				<-stream.Context().Done()
				s.ended <- stream.Context().Err()
				return err
			}
			select {
			case <-stream.Context().Done():
				s.ended <- stream.Context().Err()
				return stream.Context().Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	for i, p := range req.ResponseParameters {
		time.Sleep(time.Duration(p.IntervalUs) * time.Microsecond)
		body := pattern(int(p.Size), byte(i))
		if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: body}}); err != nil {
			return err
		}
	}
	return nil
}

// StreamingInputCall checks each message against pattern(len, index) and
// returns the total size.
func (s *service) StreamingInputCall(stream testpb.TestService_StreamingInputCallServer) error {
	total := 0
	for i := 0; ; i++ {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: int32(total)})
		}
		if err != nil {
			return err
		}
		body := req.GetPayload().GetBody()
		if !bytes.Equal(body, pattern(len(body), byte(i))) {
			return status.Errorf(codes.DataLoss, "message %d: body differs from the pattern", i)
		}
		total += len(body)
	}
}

// FullDuplexCall echoes each message as it comes.
func (s *service) FullDuplexCall(stream testpb.TestService_FullDuplexCallServer) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(&testpb.StreamingOutputCallResponse{Payload: req.Payload}); err != nil {
			return err
		}
	}
}
