package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/jwtbundle"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

// watchRecorder collects what a go-spiffe watch delivers: every update (summarized) and the gRPC
// code of every watch error. The first update prints "READY <summary>", the next ones
// "UPDATE <n> <summary>"; the watch ends after `updates` updates, or at the first error whose code is
// `untilCode` (once there were `updates` updates), or at the deadline.
type watchRecorder struct {
	mu        sync.Mutex
	updates   []map[string]any
	errs      []string
	want      int
	untilCode string
	done      chan struct{}
	closed    bool
}

func (r *watchRecorder) update(summary map[string]any, ready string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	summary["at"] = time.Now().UTC().Format(time.RFC3339Nano)
	r.updates = append(r.updates, summary)
	if len(r.updates) == 1 {
		fmt.Printf("READY %s\n", ready)
	} else {
		fmt.Printf("UPDATE %d %s\n", len(r.updates), ready)
	}
	if r.untilCode == "" && len(r.updates) >= r.want {
		r.finish()
	}
}

func (r *watchRecorder) failed(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	code := codeOf(err)
	r.errs = append(r.errs, code)
	if r.untilCode != "" && code == r.untilCode && len(r.updates) >= r.want {
		r.finish()
	}
}

func (r *watchRecorder) finish() {
	r.closed = true
	close(r.done)
}

func (r *watchRecorder) OnX509ContextUpdate(c *workloadapi.X509Context) {
	var ids, serials, expiries []string
	for _, s := range c.SVIDs {
		ids = append(ids, s.ID.String())
		serials = append(serials, hex.EncodeToString(s.Certificates[0].SerialNumber.Bytes()))
		expiries = append(expiries, s.Certificates[0].NotAfter.UTC().Format(time.RFC3339))
	}
	r.update(map[string]any{
		"ids":          ids,
		"serials":      serials,
		"expiries":     expiries,
		"trustDomains": trustDomains(c.Bundles.Bundles()),
	}, serials[0])
}

func (r *watchRecorder) OnX509ContextWatchError(err error) { r.failed(err) }

func (r *watchRecorder) OnX509BundlesUpdate(s *x509bundle.Set) {
	tds := trustDomains(s.Bundles())
	r.update(map[string]any{"trustDomains": tds}, fmt.Sprint(tds))
}

func (r *watchRecorder) OnX509BundlesWatchError(err error) { r.failed(err) }

func (r *watchRecorder) OnJWTBundlesUpdate(s *jwtbundle.Set) {
	kids := map[string][]string{}
	for _, b := range s.Bundles() {
		var ks []string
		for kid := range b.JWTAuthorities() {
			ks = append(ks, kid)
		}
		sort.Strings(ks)
		kids[b.TrustDomain().String()] = ks
	}
	r.update(map[string]any{"trustDomains": trustDomains(s.Bundles()), "kids": kids}, fmt.Sprint(len(kids)))
}

func (r *watchRecorder) OnJWTBundlesWatchError(err error) { r.failed(err) }

// watch: a go-spiffe Workload API watch (WatchX509Context, WatchX509Bundles or WatchJWTBundles),
// reporting the updates and errors it saw.
func watch(args []string) error {
	fs := flag.NewFlagSet("watch", flag.ExitOnError)
	socket := fs.String("socket", os.Getenv("SPIFFE_ENDPOINT_SOCKET"), "Workload API address")
	kind := fs.String("kind", "x509", "x509 | x509-bundles | jwt-bundles")
	updates := fs.Int("updates", 2, "stop after this many updates")
	untilCode := fs.String("until-code", "", "stop at the first watch error with this gRPC code (after -updates updates)")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	_ = fs.Parse(args)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	client, err := workloadapi.New(ctx, workloadapi.WithAddr(*socket))
	if err != nil {
		return err
	}
	defer client.Close()
	rec := &watchRecorder{want: *updates, untilCode: *untilCode, done: make(chan struct{})}
	watchCtx, stopWatch := context.WithCancel(ctx)
	result := make(chan error, 1)
	go func() {
		switch *kind {
		case "x509":
			result <- client.WatchX509Context(watchCtx, rec)
		case "x509-bundles":
			result <- client.WatchX509Bundles(watchCtx, rec)
		case "jwt-bundles":
			result <- client.WatchJWTBundles(watchCtx, rec)
		default:
			result <- fmt.Errorf("unknown kind %q", *kind)
		}
	}()
	var watchErr error
	select {
	case <-rec.done:
	case <-ctx.Done():
	case watchErr = <-result:
	}
	stopWatch()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	ok := rec.closed
	out := map[string]any{"ok": ok, "updates": rec.updates, "errors": rec.errs}
	if watchErr != nil && !errors.Is(watchErr, context.Canceled) {
		out["watchError"] = watchErr.Error()
		out["watchCode"] = codeOf(watchErr)
	}
	emit(out)
	if !ok {
		os.Exit(1)
	}
	return nil
}

// source-denial: what a go-spiffe X509Source serves once the agent answers PermissionDenied (the
// entry was deleted). Prints "READY <id>" once the source has an SVID, then polls a one-shot
// FetchX509Context until it has seen PermissionDenied for -hold, and reports what the source serves.
func sourceDenial(args []string) error {
	fs := flag.NewFlagSet("source-denial", flag.ExitOnError)
	socket := fs.String("socket", os.Getenv("SPIFFE_ENDPOINT_SOCKET"), "Workload API address")
	hold := fs.Duration("hold", 3*time.Second, "how long PermissionDenied must persist before reporting")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	_ = fs.Parse(args)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	source, err := x509Source(ctx, *socket)
	if err != nil {
		return err
	}
	defer source.Close()
	svid, err := source.GetX509SVID()
	if err != nil {
		return err
	}
	fmt.Printf("READY %s\n", svid.ID)
	client, err := workloadapi.New(ctx, workloadapi.WithAddr(*socket))
	if err != nil {
		return err
	}
	defer client.Close()
	var deniedSince time.Time
	for {
		_, err := client.FetchX509Context(ctx)
		if code := codeOf(err); code == "PermissionDenied" {
			if deniedSince.IsZero() {
				deniedSince = time.Now()
			}
			if time.Since(deniedSince) >= *hold {
				break
			}
		} else {
			deniedSince = time.Time{}
		}
		select {
		case <-ctx.Done():
			return errors.New("the agent never answered PermissionDenied")
		case <-time.After(200 * time.Millisecond):
		}
	}
	out := map[string]any{"ok": true, "deniedForMs": time.Since(deniedSince).Milliseconds()}
	if served, err := source.GetX509SVID(); err != nil {
		out["servedAfterDenied"] = false
		out["sourceError"] = err.Error()
	} else {
		out["servedAfterDenied"] = true
		out["servedId"] = served.ID.String()
		out["servedExpiry"] = served.Certificates[0].NotAfter.UTC().Format(time.RFC3339)
	}
	if b, err := source.GetX509BundleForTrustDomain(svid.ID.TrustDomain()); err == nil && b != nil {
		out["bundleAfterDenied"] = true
	} else {
		out["bundleAfterDenied"] = false
	}
	emit(out)
	return nil
}
