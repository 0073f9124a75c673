// Package grpccompat runs a google.golang.org/grpc server, unchanged, on
// pollnet listeners: grpc.Server.Serve(pollnetListener), and grpc.Server as
// the handler of a net/http server speaking h2c with pollnet.Hibernate
// installed. gRPC is HTTP/2, so a connection never hibernates: the suites
// assert that everything works and that Parks stays 0.
package grpccompat
