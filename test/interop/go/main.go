// Command spiffe-peer is go-spiffe acting as the peer of svidkit in the interop suite: an mTLS
// server and client (spiffetls), a gRPC server and client (spiffegrpc/grpccredentials, serving and
// calling grpc.health.v1.Health), a Workload API client (one-shot, watches, an X509Source, and a raw
// probe of every RPC's status code), and a JWT-SVID validator. Every command prints one JSON object
// on stdout; servers and watchers first print "READY <detail>" on a line of its own.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/jwtbundle"
	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: spiffe-peer serve-mtls|call-mtls|serve-grpc|call-grpc|wapi|watch|source-denial|probe|jwt-validate [flags]"))
	}
	var err error
	switch os.Args[1] {
	case "serve-mtls":
		err = serveMTLS(os.Args[2:])
	case "call-mtls":
		err = callMTLS(os.Args[2:])
	case "wapi":
		err = wapi(os.Args[2:])
	case "watch":
		err = watch(os.Args[2:])
	case "source-denial":
		err = sourceDenial(os.Args[2:])
	case "probe":
		err = probe(os.Args[2:])
	case "jwt-validate":
		err = jwtValidate(os.Args[2:])
	case "serve-grpc":
		err = serveGRPC(os.Args[2:])
	case "call-grpc":
		err = callGRPC(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func emit(v any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func fail(err error) {
	emit(map[string]any{"ok": false, "error": err.Error()})
	os.Exit(1)
}

func authorizer(id, memberOf string) (tlsconfig.Authorizer, error) {
	switch {
	case id != "":
		parsed, err := spiffeid.FromString(id)
		if err != nil {
			return nil, err
		}
		return tlsconfig.AuthorizeID(parsed), nil
	case memberOf != "":
		td, err := spiffeid.TrustDomainFromString(memberOf)
		if err != nil {
			return nil, err
		}
		return tlsconfig.AuthorizeMemberOf(td), nil
	default:
		return tlsconfig.AuthorizeAny(), nil
	}
}

// identityFlags registers -socket and the peer authorization flags (-<prefix>-id, -<prefix>-member-of)
// on fs; after fs.Parse, the returned function opens the X509Source and builds the authorizer.
func identityFlags(fs *flag.FlagSet, prefix, peer string) func(context.Context) (*workloadapi.X509Source, tlsconfig.Authorizer, error) {
	socket := fs.String("socket", os.Getenv("SPIFFE_ENDPOINT_SOCKET"), "Workload API address")
	id := fs.String(prefix+"-id", "", "only accept this "+peer+" SPIFFE ID")
	memberOf := fs.String(prefix+"-member-of", "", "only accept a "+peer+" of this trust domain")
	return func(ctx context.Context) (*workloadapi.X509Source, tlsconfig.Authorizer, error) {
		authz, err := authorizer(*id, *memberOf)
		if err != nil {
			return nil, nil, err
		}
		source, err := x509Source(ctx, *socket)
		if err != nil {
			return nil, nil, err
		}
		return source, authz, nil
	}
}

func x509Source(ctx context.Context, socket string) (*workloadapi.X509Source, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return workloadapi.NewX509Source(ctx, workloadapi.WithClientOptions(workloadapi.WithAddr(socket)))
}

// serve-mtls: an HTTPS server on spiffetls that answers with the caller's SPIFFE ID.
func serveMTLS(args []string) error {
	fs := flag.NewFlagSet("serve-mtls", flag.ExitOnError)
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
	ln, err := spiffetls.NewListenerWithMode(ctx, mustListen(*listen), spiffetls.MTLSServerWithSource(authz, source))
	if err != nil {
		return err
	}
	// net/http reads ConnectionState() of a connection that is not a *tls.Conn (spiffetls wraps it)
	// before the handshake, so r.TLS has no peer certificates: take the peer ID from the connection
	// itself (PeerIDFromConn completes the handshake first).
	srv := &http.Server{
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, _ := r.Context().Value(connKey{}).(net.Conn)
			peer, err := spiffetls.PeerIDFromConn(conn)
			if err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"peer": peer.String(), "path": r.URL.Path})
		}),
	}
	fmt.Printf("READY %s\n", ln.Addr().String())
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type connKey struct{}

func mustListen(addr string) net.Listener {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fail(err)
	}
	return ln
}

// call-mtls: one HTTPS GET over go-spiffe mTLS, authorizing the server's SPIFFE ID.
func callMTLS(args []string) error {
	fs := flag.NewFlagSet("call-mtls", flag.ExitOnError)
	url := fs.String("url", "", "URL to GET")
	open := identityFlags(fs, "server", "server")
	_ = fs.Parse(args)
	source, authz, err := open(context.Background())
	if err != nil {
		return err
	}
	defer source.Close()
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: tlsconfig.MTLSClientConfig(source, source, authz)},
	}
	resp, err := client.Get(*url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	emit(map[string]any{"ok": resp.StatusCode < 400, "status": resp.StatusCode, "body": string(body), "tlsVersion": tls.VersionName(resp.TLS.Version)})
	if resp.StatusCode >= 400 {
		os.Exit(1)
	}
	return nil
}

// codeOf finds the gRPC status code in an error chain ("OK" only for a nil error).
func codeOf(err error) string {
	if err == nil {
		return "OK"
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if s, ok := status.FromError(e); ok && s.Code() != codes.OK && s.Code() != codes.Unknown {
			return s.Code().String()
		}
	}
	return "Error"
}

// wapi: the go-spiffe Workload API client against an agent; reports what it got.
func wapi(args []string) error {
	fs := flag.NewFlagSet("wapi", flag.ExitOnError)
	socket := fs.String("socket", os.Getenv("SPIFFE_ENDPOINT_SOCKET"), "Workload API address")
	audience := fs.String("audience", "interop", "JWT-SVID audience")
	_ = fs.Parse(args)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client, err := workloadapi.New(ctx, workloadapi.WithAddr(*socket))
	if err != nil {
		return err
	}
	defer client.Close()
	out := map[string]any{"ok": true}

	x509ctx, err := client.FetchX509Context(ctx)
	if err != nil {
		out["ok"] = false
		out["x509Error"] = err.Error()
		out["x509Code"] = codeOf(err)
		emit(out)
		os.Exit(1)
	}
	var ids []string
	for _, s := range x509ctx.SVIDs {
		ids = append(ids, s.ID.String())
	}
	out["x509Svids"] = ids
	out["x509Hints"] = hints(x509ctx)
	out["x509Expiry"] = x509ctx.DefaultSVID().Certificates[0].NotAfter.UTC().Format(time.RFC3339)
	out["x509BundleTrustDomains"] = trustDomains(x509ctx.Bundles.Bundles())

	bundles, err := client.FetchX509Bundles(ctx)
	if err != nil {
		return fmt.Errorf("FetchX509Bundles: %w", err)
	}
	out["x509BundlesTrustDomains"] = trustDomains(bundles.Bundles())

	jwt, err := client.FetchJWTSVID(ctx, jwtsvid.Params{Audience: *audience})
	if err != nil {
		return fmt.Errorf("FetchJWTSVID: %w", err)
	}
	out["jwtSubject"] = jwt.ID.String()
	out["jwtAudience"] = jwt.Audience
	jwtBundles, err := client.FetchJWTBundles(ctx)
	if err != nil {
		return fmt.Errorf("FetchJWTBundles: %w", err)
	}
	var jtds []string
	for _, b := range jwtBundles.Bundles() {
		jtds = append(jtds, b.TrustDomain().String())
	}
	sort.Strings(jtds)
	out["jwtBundleTrustDomains"] = jtds
	// Local validation with the streamed bundles must agree with the agent's ValidateJWTSVID.
	if _, err := jwtsvid.ParseAndValidate(jwt.Marshal(), jwtBundles, []string{*audience}); err != nil {
		out["localValidateError"] = err.Error()
	}
	validated, err := client.ValidateJWTSVID(ctx, jwt.Marshal(), *audience)
	if err != nil {
		out["validateError"] = err.Error()
	} else {
		out["validatedSubject"] = validated.ID.String()
	}
	_, err = client.ValidateJWTSVID(ctx, jwt.Marshal(), "another-audience")
	out["wrongAudienceCode"] = codeOf(err)
	tampered := jwt.Marshal()
	tampered = tampered[:len(tampered)-4] + flip(tampered[len(tampered)-4:])
	_, err = client.ValidateJWTSVID(ctx, tampered, *audience)
	out["tamperedCode"] = codeOf(err)
	emit(out)
	return nil
}

func flip(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}

func hints(c *workloadapi.X509Context) []string {
	var out []string
	for _, s := range c.SVIDs {
		out = append(out, s.Hint)
	}
	return out
}

type withTD interface{ TrustDomain() spiffeid.TrustDomain }

func trustDomains[T withTD](bundles []T) []string {
	var out []string
	for _, b := range bundles {
		out = append(out, b.TrustDomain().String())
	}
	sort.Strings(out)
	return out
}

// jwt-validate: jwtsvid.ParseAndValidate of a token against a SPIFFE bundle or JWKS file.
func jwtValidate(args []string) error {
	fs := flag.NewFlagSet("jwt-validate", flag.ExitOnError)
	bundlePath := fs.String("bundle", "", "SPIFFE bundle JSON file")
	td := fs.String("trust-domain", "", "trust domain of the bundle")
	audience := fs.String("audience", "", "expected audience (several: comma-separated, any of them)")
	noAudience := fs.Bool("no-audience", false, "pass no expected audience at all (go-spiffe then skips the check)")
	token := fs.String("token", "", "the JWT-SVID")
	_ = fs.Parse(args)
	var expected []string
	if !*noAudience {
		expected = strings.Split(*audience, ",")
	}
	trustDomain, err := spiffeid.TrustDomainFromString(*td)
	if err != nil {
		return err
	}
	sb, err := spiffebundle.Load(trustDomain, *bundlePath)
	if err != nil {
		return err
	}
	set := jwtbundle.NewSet(sb.JWTBundle())
	svid, err := jwtsvid.ParseAndValidate(*token, set, expected)
	if err != nil {
		emit(map[string]any{"ok": false, "error": err.Error()})
		os.Exit(1)
	}
	emit(map[string]any{"ok": true, "spiffeId": svid.ID.String(), "audience": svid.Audience, "expiresAt": svid.Expiry.UTC().Format(time.RFC3339)})
	return nil
}
