package main

import (
	"context"
	"flag"
	"os"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// probe: every Workload API RPC called once through go-spiffe's generated client, with and without
// the workload.spiffe.io security header, reporting the gRPC status code of each (a stream counts as
// OK when its first message arrives). Compares agents' error behaviour byte-for-byte-ish: code and
// message.
func probe(args []string) error {
	fs := flag.NewFlagSet("probe", flag.ExitOnError)
	socket := fs.String("socket", os.Getenv("SPIFFE_ENDPOINT_SOCKET"), "Workload API address")
	audience := fs.String("audience", "interop", "audience for FetchJWTSVID / ValidateJWTSVID")
	token := fs.String("token", "", "token for ValidateJWTSVID (default: a syntactically valid dummy)")
	_ = fs.Parse(args)
	target, err := workloadapi.TargetFromAddress(*socket)
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := workload.NewSpiffeWorkloadAPIClient(conn)
	svid := *token
	if svid == "" {
		svid = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsiLCJ0eXAiOiJKV1QifQ.eyJzdWIiOiJzcGlmZmU6Ly9leGFtcGxlLm9yZy93In0.c2ln"
	}
	run := func(header bool) map[string]map[string]string {
		out := map[string]map[string]string{}
		call := func(name string, f func(ctx context.Context) error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if header {
				ctx = metadata.NewOutgoingContext(ctx, metadata.Pairs("workload.spiffe.io", "true"))
			}
			err := f(ctx)
			r := map[string]string{"code": "OK"}
			if err != nil {
				s, _ := status.FromError(err)
				r["code"] = s.Code().String()
				r["message"] = strings.TrimSpace(s.Message())
			}
			out[name] = r
		}
		call("FetchX509SVID", func(ctx context.Context) error {
			s, err := client.FetchX509SVID(ctx, &workload.X509SVIDRequest{})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		})
		call("FetchX509Bundles", func(ctx context.Context) error {
			s, err := client.FetchX509Bundles(ctx, &workload.X509BundlesRequest{})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		})
		call("FetchJWTBundles", func(ctx context.Context) error {
			s, err := client.FetchJWTBundles(ctx, &workload.JWTBundlesRequest{})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		})
		call("FetchJWTSVID", func(ctx context.Context) error {
			_, err := client.FetchJWTSVID(ctx, &workload.JWTSVIDRequest{Audience: []string{*audience}})
			return err
		})
		call("FetchJWTSVIDNoAudience", func(ctx context.Context) error {
			_, err := client.FetchJWTSVID(ctx, &workload.JWTSVIDRequest{})
			return err
		})
		call("ValidateJWTSVID", func(ctx context.Context) error {
			_, err := client.ValidateJWTSVID(ctx, &workload.ValidateJWTSVIDRequest{Audience: *audience, Svid: svid})
			return err
		})
		call("ValidateJWTSVIDNoAudience", func(ctx context.Context) error {
			_, err := client.ValidateJWTSVID(ctx, &workload.ValidateJWTSVIDRequest{Svid: svid})
			return err
		})
		call("FetchWITSVID", func(ctx context.Context) error {
			s, err := client.FetchWITSVID(ctx, &workload.WITSVIDRequest{})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		})
		call("FetchWITBundles", func(ctx context.Context) error {
			s, err := client.FetchWITBundles(ctx, &workload.WITBundlesRequest{})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		})
		return out
	}
	emit(map[string]any{"ok": true, "withHeader": run(true), "withoutHeader": run(false)})
	return nil
}
