package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"reflect"
	"syscall"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffegrpc/grpccredentials"
	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// serve-grpc: a gRPC server on go-spiffe's grpccredentials.MTLSServerCredentials serving
// grpc.health.v1.Health ("" and "orders" SERVING); every answer carries the caller's SPIFFE ID in the
// "x-peer-id" header.
func serveGRPC(args []string) error {
	fs := flag.NewFlagSet("serve-grpc", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	open := identityFlags(fs, "authorize", "client")
	_ = fs.Parse(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	source, authz, err := open(ctx)
	if err != nil {
		return err
	}
	defer source.Close()
	withPeer := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if id, ok := grpccredentials.PeerIDFromContext(ctx); ok {
			_ = grpc.SetHeader(ctx, metadata.Pairs("x-peer-id", id.String()))
		}
		return handler(ctx, req)
	}
	srv := grpc.NewServer(
		grpc.Creds(grpccredentials.MTLSServerCredentials(source, source, authz)),
		grpc.UnaryInterceptor(withPeer),
	)
	hs := health.NewServer()
	hs.SetServingStatus("orders", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	ln := mustListen(*listen)
	fmt.Printf("READY %s\n", ln.Addr().String())
	go func() { <-ctx.Done(); srv.Stop() }()
	return srv.Serve(ln)
}

// call-grpc: one grpc.health.v1.Health/Check over go-spiffe's grpccredentials.MTLSClientCredentials,
// authorizing the server's SPIFFE ID; optionally with a JWT-SVID from the Workload API as
// "authorization" metadata. Prints the status code and message, the serving status and the server's ID.
func callGRPC(args []string) error {
	fs := flag.NewFlagSet("call-grpc", flag.ExitOnError)
	target := fs.String("target", "", "host:port to dial")
	service := fs.String("service", "", "the service whose health to check")
	audience := fs.String("jwt-audience", "", "send a JWT-SVID for this audience")
	open := identityFlags(fs, "server", "server")
	_ = fs.Parse(args)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	source, authz, err := open(ctx)
	if err != nil {
		return err
	}
	defer source.Close()
	conn, err := grpc.NewClient(*target, grpc.WithTransportCredentials(grpccredentials.MTLSClientCredentials(source, source, authz)))
	if err != nil {
		return err
	}
	defer conn.Close()
	if *audience != "" {
		svid, err := workloadapi.FetchJWTSVID(ctx, jwtsvid.Params{Audience: *audience}, workloadapi.WithAddr(fs.Lookup("socket").Value.String()))
		if err != nil {
			return err
		}
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+svid.Marshal())
	}
	var p peer.Peer
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: *service}, grpc.Peer(&p))
	out := map[string]any{"ok": err == nil, "code": status.Code(err).String(), "message": status.Convert(err).Message()}
	if resp != nil {
		out["status"] = resp.GetStatus().String()
	}
	if serverID, ok := grpccredentials.PeerIDFromPeer(&p); ok {
		out["serverId"] = serverID.String()
	}
	if serial := serverSerial(&p); serial != "" {
		out["serverSerial"] = serial
	}
	emit(out)
	if err != nil {
		os.Exit(1)
	}
	return nil
}

// serverSerial is the serial number of the server's leaf certificate (hex, as go prints big.Int
// bytes). grpccredentials wraps grpc's TLSInfo in an unexported type that embeds it: reach the
// embedded field by name.
func serverSerial(p *peer.Peer) string {
	v := reflect.ValueOf(p.AuthInfo)
	if v.Kind() != reflect.Struct {
		return ""
	}
	f := v.FieldByName("AuthInfo")
	if !f.IsValid() || !f.CanInterface() {
		return ""
	}
	info, ok := f.Interface().(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 {
		return ""
	}
	return hex.EncodeToString(info.State.PeerCertificates[0].SerialNumber.Bytes())
}
