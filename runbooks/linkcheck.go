package runbooks

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/errs"
)

// The link check: a background loop that asks every runbook and dashboard link Portside knows
// whether it still answers, and records the answer, so that pages can mark dead links. It never
// runs in a request: pages read the last recorded answer. The links it checks are the URLs of
// LINK runbooks and the (templated) URLs pages have shown, at most MaxTrackedURLs of those.
//
// It is bounded everywhere: one round checks at most Batch URLs, Concurrency at once, each
// within Timeout, and it dials only addresses the catalog's address rule allows (never
// link-local, where cloud metadata answers; loopback only when allowed), on every redirect hop.

// LinkState is what the link check last found.
type LinkState string

// The states.
const (
	LinkUnknown LinkState = "UNKNOWN" // not checked (yet), or the address is off limits to the check
	LinkOK      LinkState = "OK"
	LinkDead    LinkState = "DEAD"
)

// LinkStatus is the link check's last answer for a URL.
type LinkStatus struct {
	URL   string
	State LinkState
	// HTTPStatus is the final status code (0 when the request failed).
	HTTPStatus int
	// Message says why a link is dead or unknown.
	Message   string
	CheckedAt time.Time
}

// MaxTrackedURLs bounds the shown URLs the check remembers.
const MaxTrackedURLs = 10000

// CheckOptions tune the link check. The zero Interval leaves it off.
type CheckOptions struct {
	// Interval is the pause between two rounds; 0 disables the loop (CheckNow still works).
	Interval time.Duration
	// Batch bounds the URLs one round checks (default 500); Concurrency the requests at once
	// (default 4); Timeout one URL's check, redirects included (default 10s).
	Batch       int
	Concurrency int
	Timeout     time.Duration
	// AllowLoopback lets checks reach loopback addresses (allow-loopback-locations).
	AllowLoopback bool
	// Guard, when set, is the address rule (tests); AllowLoopback is then ignored.
	Guard *sources.Guard
}

func (o CheckOptions) withDefaults() CheckOptions {
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	return o
}

// checker runs the link check.
type checker struct {
	recs   *records
	opts   CheckOptions
	log    *slog.Logger
	now    func() time.Time
	client *http.Client

	mu      sync.Mutex
	tracked map[string]struct{}
	order   []string // tracked URLs, oldest first: the oldest goes when the set is full
	// next is where the next round starts in the sorted URLs to check: a round takes Batch of
	// them from there (wrapping around), so that every URL gets its turn however many there are.
	next   int
	cancel context.CancelFunc
	done   chan struct{}
}

func newChecker(recs *records, opts CheckOptions, log *slog.Logger, now func() time.Time) *checker {
	opts = opts.withDefaults()
	guard := opts.Guard
	if guard == nil {
		guard = &sources.Guard{AllowLoopback: opts.AllowLoopback}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = guard.DialContext
	// No proxy: the guard must see the address the check connects to, not a proxy's.
	transport.Proxy = nil
	transport.MaxIdleConnsPerHost = 2
	client := &http.Client{Transport: transport, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("more than 5 redirects")
		}
		return nil
	}}
	return &checker{recs: recs, opts: opts, log: log, now: now, client: client, tracked: map[string]struct{}{}}
}

// track remembers URLs pages showed, for the next rounds; it never blocks on the network.
func (c *checker) track(urls []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, u := range urls {
		if _, ok := c.tracked[u]; ok || checkURL("url", u) != nil {
			continue
		}
		if len(c.order) >= MaxTrackedURLs {
			delete(c.tracked, c.order[0])
			c.order = c.order[1:]
		}
		c.tracked[u] = struct{}{}
		c.order = append(c.order, u)
	}
}

// LinkStatuses returns the link check's last answers for urls (UNKNOWN where it has none) and
// has the check look at them from now on.
func (s *Service) LinkStatuses(ctx context.Context, urls []string) (map[string]LinkStatus, error) {
	s.checker.track(urls)
	got, err := s.recs.checks(ctx, urls)
	if err != nil {
		return nil, err
	}
	for _, u := range urls {
		if _, ok := got[u]; !ok {
			got[u] = LinkStatus{URL: u, State: LinkUnknown}
		}
	}
	return got, nil
}

// CheckNow runs one round of the link check and returns when it is done (tests, and the loop).
func (s *Service) CheckNow(ctx context.Context) error { return s.checker.round(ctx) }

// Start runs the link check every Interval until Stop (nothing when Interval is 0).
func (s *Service) Start(ctx context.Context) {
	c := s.checker
	if c.opts.Interval <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		return
	}
	ctx, c.cancel = context.WithCancel(ctx)
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		s.RunLinkCheck(ctx)
	}()
}

// RunLinkCheck runs a round of the link check every Interval until ctx ends (it returns at once
// when Interval is 0). Start runs it in the background; serve runs it on the leader only.
func (s *Service) RunLinkCheck(ctx context.Context) {
	c := s.checker
	if c.opts.Interval <= 0 {
		return
	}
	t := time.NewTicker(c.opts.Interval)
	defer t.Stop()
	for {
		if err := c.round(ctx); err != nil && ctx.Err() == nil {
			c.log.WarnContext(ctx, "runbooks: link check round", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stop ends the link check and waits for its round in progress.
func (s *Service) Stop() {
	c := s.checker
	c.mu.Lock()
	cancel, done := c.cancel, c.done
	c.cancel = nil
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// maxLinkRunbookURLs bounds the LINK runbooks' URLs one round reads to choose from.
const maxLinkRunbookURLs = 100000

// round checks up to Batch URLs, Concurrency at once. The URLs to check (the LINK runbooks' and
// those pages showed) are taken in turns, Batch a round from where the last round stopped: when
// there are more than Batch, each round checks others, rather than the same first ones forever.
func (c *checker) round(ctx context.Context) error {
	urls, err := c.recs.linkURLs(ctx, maxLinkRunbookURLs)
	if err != nil {
		return err
	}
	c.mu.Lock()
	urls = append(urls, c.order...)
	slices.Sort(urls)
	urls = slices.Compact(urls)
	if len(urls) > c.opts.Batch {
		start := c.next % len(urls)
		turn := make([]string, 0, c.opts.Batch)
		for i := range c.opts.Batch {
			turn = append(turn, urls[(start+i)%len(urls)])
		}
		c.next = (start + c.opts.Batch) % len(urls)
		urls = turn
	} else {
		c.next = 0
	}
	c.mu.Unlock()
	sem := make(chan struct{}, c.opts.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for _, u := range urls {
		select {
		case <-ctx.Done():
		case sem <- struct{}{}:
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			st := c.check(ctx, u)
			if ctx.Err() != nil {
				return // stopped: an interrupted check says nothing about the link
			}
			if err := c.recs.saveCheck(ctx, st); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// check asks one URL: HEAD first, GET when the server does not do HEAD.
func (c *checker) check(ctx context.Context, u string) LinkStatus {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	st := LinkStatus{URL: u, CheckedAt: c.now().UTC()}
	code, err := c.request(ctx, http.MethodHead, u)
	if err == nil && (code == http.StatusMethodNotAllowed || code == http.StatusNotImplemented) {
		code, err = c.request(ctx, http.MethodGet, u)
	}
	switch {
	case errs.Is(err, errs.Forbidden):
		st.State, st.Message = LinkUnknown, "not checked: "+errs.PublicMessage(err)
	case err != nil:
		st.State, st.Message = LinkDead, "no answer: "+shortError(err)
	case code >= 200 && code < 400, code == http.StatusUnauthorized, code == http.StatusForbidden:
		// A page behind a sign-in answers 401 or 403 to the check, and is alive.
		st.State, st.HTTPStatus = LinkOK, code
	default:
		st.State, st.HTTPStatus, st.Message = LinkDead, code, "answered "+strconv.Itoa(code)+" "+http.StatusText(code)
	}
	return st
}

func (c *checker) request(ctx context.Context, method, u string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "Portside link check")
	resp, err := c.client.Do(req)
	if err != nil {
		var coded *errs.Error
		if errors.As(err, &coded) {
			return 0, coded
		}
		return 0, err
	}
	// Read a little of the body so the connection can be reused; never the whole of it.
	_, _ = io.CopyN(io.Discard, resp.Body, 4096)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// shortError is an error's message without the URL net/http repeats in front of it.
func shortError(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return clip(inner.Error(), 200)
		}
	}
	return clip(err.Error(), 200)
}
