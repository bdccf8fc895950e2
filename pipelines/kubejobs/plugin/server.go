package plugin

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"sync"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts/connector"
)

// Server is what the companion serves for the provider: each exported method is one call.
type Server struct {
	broker    *goplugin.MuxBroker
	newEngine func(Config) (Engine, error)

	mu     sync.Mutex
	engine Engine
}

// Configure builds the engine (again, when the parent configures a second time).
func (s *Server) Configure(args []byte, out *connector.Reply) error {
	var cfg Config
	if err := json.Unmarshal(args, &cfg); err != nil {
		return reply(out, nil, errs.Wrap(errs.Invalid, err, "kubejobs: configure"))
	}
	if s.newEngine == nil {
		return reply(out, nil, errs.E(errs.Internal, "kubejobs: this companion serves no engine"))
	}
	e, err := s.newEngine(cfg)
	if err != nil {
		return reply(out, nil, err)
	}
	s.mu.Lock()
	old := s.engine
	s.engine = e
	s.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	return reply(out, struct{}{}, nil)
}

func (s *Server) current() (Engine, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.engine == nil {
		return nil, notConfigured
	}
	return s.engine, nil
}

// call decodes a RunSpec and runs fn on the engine, bounded by callTimeout.
func (s *Server) call(args []byte, out *connector.Reply, fn func(context.Context, Engine, RunSpec) (any, error)) error {
	e, err := s.current()
	if err != nil {
		return reply(out, nil, err)
	}
	var run RunSpec
	if err := json.Unmarshal(args, &run); err != nil {
		return reply(out, nil, errs.Wrap(errs.Invalid, err, "kubejobs: the run's description"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	v, err := fn(ctx, e, run)
	return reply(out, v, err)
}

// Trigger creates a run's first Job.
func (s *Server) Trigger(args []byte, out *connector.Reply) error {
	return s.call(args, out, func(ctx context.Context, e Engine, run RunSpec) (any, error) { return e.Trigger(ctx, run) })
}

// Status reads a run (and moves it on to its next stage).
func (s *Server) Status(args []byte, out *connector.Reply) error {
	return s.call(args, out, func(ctx context.Context, e Engine, run RunSpec) (any, error) { return e.Status(ctx, run) })
}

// Cancel deletes a run's Jobs.
func (s *Server) Cancel(args []byte, out *connector.Reply) error {
	return s.call(args, out, func(ctx context.Context, e Engine, run RunSpec) (any, error) {
		return struct{}{}, e.Cancel(ctx, run)
	})
}

// Changes writes the dispatch ID of every run that changed to the broker stream id, one JSON
// string each, until the parent closes the stream (or the engine stops: then the stream ends,
// and the parent opens another).
func (s *Server) Changes(id uint32, out *connector.Reply) error {
	e, err := s.current()
	if err != nil {
		return reply(out, nil, err)
	}
	conn, err := s.broker.Dial(id)
	if err != nil {
		return reply(out, nil, errs.Wrap(errs.Unavailable, err, "kubejobs: opening the changes stream"))
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, conn) // returns once the parent closes the stream
		cancel()
	}()
	// The engine's handler must not wait on the connection: notices go through a bounded queue,
	// and one that finds it full is dropped (the follower's polling reads that run anyway).
	queue := make(chan string, 1024)
	done := make(chan error, 1)
	go func() {
		done <- e.Changes(ctx, func(dispatch string) {
			select {
			case queue <- dispatch:
			default:
			}
		})
	}()
	w := bufio.NewWriter(conn)
	enc := json.NewEncoder(w)
	for {
		select {
		case d := <-queue:
			if enc.Encode(d) != nil {
				return reply(out, struct{}{}, nil)
			}
			if len(queue) == 0 && w.Flush() != nil {
				return reply(out, struct{}{}, nil)
			}
		case err := <-done:
			return reply(out, struct{}{}, err)
		case <-ctx.Done():
			return reply(out, struct{}{}, nil)
		}
	}
}
