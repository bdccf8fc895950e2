package connector

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts"
)

// Handler serves the sources over the connector protocol, to one parent: what a watch of a source
// delivered is remembered for the next watch of it (see delivered).
func Handler(sources []rollouts.Source) http.Handler {
	byName := make(map[string]rollouts.Source, len(sources))
	sent := make(map[string]*delivered, len(sources))
	for _, s := range sources {
		byName[s.Name()] = s
		sent[s.Name()] = &delivered{versions: map[rollouts.Key]string{}}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/{instance}/{method}", func(w http.ResponseWriter, r *http.Request) {
		src, ok := byName[r.PathValue("instance")]
		if !ok {
			writeJSON(w, nil, errs.E(errs.NotFound, "portside-argocd has no Argo CD instance %q", r.PathValue("instance")))
			return
		}
		var req request
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil && !errors.Is(err, io.EOF) {
			writeJSON(w, nil, errs.Wrap(errs.Invalid, err, "portside-argocd: the request body is not JSON"))
			return
		}
		ctx := r.Context()
		switch m := r.PathValue("method"); m {
		case methodWatch:
			watch(w, r, src, sent[src.Name()])
		case methodList:
			apps, err := src.List(ctx)
			writeJSON(w, apps, err)
		case methodCommit:
			c, err := src.Commit(ctx, req.App, req.Revision)
			writeJSON(w, c, err)
		case methodSync:
			if req.Sync == nil {
				req.Sync = &rollouts.SyncRequest{}
			}
			app, err := src.Sync(ctx, req.App, *req.Sync)
			writeJSON(w, app, err)
		case methodRollback:
			if req.Rollback == nil {
				writeJSON(w, nil, errs.InvalidField("rollback", "a rollback names its history ID"))
				return
			}
			app, err := src.Rollback(ctx, req.App, *req.Rollback)
			writeJSON(w, app, err)
		case methodTerminate:
			ok, err := src.Terminate(ctx, req.App)
			writeJSON(w, terminated{ok}, err)
		case methodRefresh:
			app, err := src.Refresh(ctx, req.App, req.Hard)
			writeJSON(w, app, err)
		case methodCanary, methodRolloutAction:
			if req.Resource == nil {
				writeJSON(w, nil, errs.InvalidField("resource", "%s names the Rollout resource", m))
				return
			}
			if m == methodCanary {
				c, err := src.Canary(ctx, req.App, *req.Resource)
				writeJSON(w, c, err)
				return
			}
			writeJSON(w, struct{}{}, src.RolloutAction(ctx, req.App, *req.Resource, req.Action))
		case methodSyncWindows:
			sw, err := src.SyncWindows(ctx, req.App)
			writeJSON(w, sw, err)
		default:
			writeJSON(w, nil, errs.E(errs.NotFound, "portside-argocd has no method %q", m))
		}
	})
	return mux
}

// watch streams the source's watch: each event as a JSON value, and at the end the error that
// ended it. An event goes out at once when it is the only one waiting (an update's latency is the
// point); a burst (the state of every application a watch opens with) goes out in large writes,
// flushed when it is through, rather than one write per event.
func watch(w http.ResponseWriter, r *http.Request, src rollouts.Source, sent *delivered) {
	w.Header().Set("Content-Type", "application/json")
	flusher, _ := w.(http.Flusher)
	flush := func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
	enc := json.NewEncoder(w)
	w.WriteHeader(http.StatusOK)
	flush() // the parent knows the watch is open
	ctx := r.Context()
	events := make(chan rollouts.Event, 1024)
	var err error
	go func() {
		err = src.Watch(ctx, func(ev rollouts.Event) {
			if !sent.news(ev) {
				return
			}
			select {
			case events <- ev:
			case <-ctx.Done():
			}
		})
		close(events) // after err is set: the loop below reads it once the channel is drained
	}()
	for ev := range events {
		_ = enc.Encode(watchItem{Event: &ev}) // a parent gone cancels ctx, which ends the watch
		if len(events) == 0 {
			flush()
		}
	}
	if err == nil {
		err = errs.E(errs.Unavailable, "Argo CD %q ended the watch", src.Name())
	}
	_ = enc.Encode(watchItem{End: toWire(err)})
}

// delivered remembers the resource version of every application a watch of one source delivered,
// so that the next watch (after a cut) leaves out the opening repeats of applications that have not
// changed: Argo CD opens every watch with the state of all of them, which would otherwise cross
// the socket again in full, ahead of the changes behind it. The parent has them already, and
// what a cut watch wrote but the parent never read, the list the parent makes with every new
// watch brings (the Source contract: a watch may, not must, repeat the current state).
type delivered struct {
	mu       sync.Mutex
	versions map[rollouts.Key]string
}

// news records an event and reports whether it is worth sending.
func (d *delivered) news(ev rollouts.Event) bool {
	k := ev.App.Key()
	d.mu.Lock()
	defer d.mu.Unlock()
	if ev.Deleted {
		delete(d.versions, k)
		return true
	}
	if v, ok := d.versions[k]; ok && v == ev.App.ResourceVersion && v != "" {
		return false
	}
	d.versions[k] = ev.App.ResourceVersion
	return true
}

// RunChild is portside-argocd's main loop: it reads its configuration from in, builds a source
// per instance with newSource, listens on the configured socket, says so on out, and serves until
// in reaches its end (the parent closed it or died) or ctx ends.
func RunChild(ctx context.Context, in io.Reader, out io.Writer, log *slog.Logger,
	newSource func(Instance) (rollouts.Source, error)) error {
	stdin := bufio.NewReader(in)
	line, err := stdin.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("portside-argocd: reading the configuration from standard input: %w (it is started by portside serve, not by hand)", err)
	}
	var cfg childConfig
	if err := json.Unmarshal(line, &cfg); err != nil {
		return fmt.Errorf("portside-argocd: the configuration on standard input is not JSON: %w", err)
	}
	fail := func(err error) error {
		_ = json.NewEncoder(out).Encode(handshake{Error: toWire(err)})
		return err
	}
	sources := make([]rollouts.Source, 0, len(cfg.Instances))
	for _, inst := range cfg.Instances {
		src, err := newSource(inst)
		if err != nil {
			return fail(err)
		}
		sources = append(sources, src)
		if c, ok := src.(io.Closer); ok {
			defer c.Close()
		}
	}
	_ = os.Remove(cfg.Socket) // left by a child that was killed
	ln, err := net.Listen("unix", cfg.Socket)
	if err != nil {
		return fail(errs.Wrap(errs.Unavailable, err, "portside-argocd cannot listen on %s", cfg.Socket))
	}
	srv := &http.Server{Handler: Handler(sources), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if err := json.NewEncoder(out).Encode(handshake{Ready: true}); err != nil {
		_ = srv.Close()
		return err
	}
	log.InfoContext(ctx, "portside-argocd ready", "instances", len(sources))
	parentGone := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		close(parentGone)
	}()
	select {
	case <-ctx.Done():
	case <-parentGone:
	case err := <-served:
		return err
	}
	// Watches never end on their own: closing drops them, and the parent reconnects to its next
	// child if there is one.
	_ = srv.Close()
	return nil
}
