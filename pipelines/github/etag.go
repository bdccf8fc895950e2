package github

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// etagCache makes GETs conditional: it keeps the last answer of each URL with its ETag, sends
// If-None-Match, and answers a 304 with the kept body. GitHub does not count a 304 against the
// rate limit, so polling runs that did not change is free.
type etagCache struct {
	next   http.RoundTripper
	limit  int
	hits   atomic.Int64
	budget *budget
	mu     sync.Mutex
	byURL  map[string]cached
}

type cached struct {
	etag   string
	body   []byte
	header http.Header
}

func newETagCache(next http.RoundTripper, limit int, b *budget) *etagCache {
	if next == nil {
		next = http.DefaultTransport
	}
	return &etagCache{next: next, limit: limit, budget: b, byURL: map[string]cached{}}
}

// maxCachedBody keeps large answers out of the cache.
const maxCachedBody = 1 << 20

func (c *etagCache) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		// Actions people asked for (dispatch, cancel, re-run) are never held back; they count.
		c.budget.spend()
		return c.next.RoundTrip(req)
	}
	// The read takes its place in the budget before it is sent, so concurrent reads cannot all
	// pass a budget with one place left; a 304 or a failed send gives it back.
	if err := c.budget.reserve(); err != nil {
		return nil, err
	}
	key := req.URL.String()
	c.mu.Lock()
	entry, ok := c.byURL[key]
	c.mu.Unlock()
	if ok {
		req = req.Clone(req.Context())
		req.Header.Set("If-None-Match", entry.etag)
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		c.budget.refund()
		return nil, err
	}
	if resp.StatusCode == http.StatusNotModified {
		c.budget.refund() // GitHub counts every answer but a 304 against the rate limit
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && ok:
		c.hits.Add(1)
		_ = resp.Body.Close()
		h := entry.header.Clone()
		for k, v := range resp.Header { // the rate-limit headers of this answer are the current ones
			h[k] = v
		}
		return &http.Response{Status: "200 OK", StatusCode: http.StatusOK, Header: h, Body: io.NopCloser(bytes.NewReader(entry.body)),
			ContentLength: int64(len(entry.body)), Proto: resp.Proto, ProtoMajor: resp.ProtoMajor, ProtoMinor: resp.ProtoMinor, Request: req}, nil
	case resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") != "":
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxCachedBody+1))
		_ = resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if len(body) <= maxCachedBody {
			c.mu.Lock()
			if len(c.byURL) >= c.limit {
				for k := range c.byURL { // drop one at random: a bound, not a policy
					delete(c.byURL, k)
					break
				}
			}
			c.byURL[key] = cached{etag: resp.Header.Get("ETag"), body: body, header: resp.Header.Clone()}
			c.mu.Unlock()
		}
	}
	return resp, nil
}

// budget caps the requests GitHub counts against Portside's rate limit per hour, so that many
// runs under way are read less often instead of spending the limit that triggers need: reads
// are refused (the runs stay stale until the next hour) once the hour's budget is spent.
type budget struct {
	perHour int
	now     func() time.Time
	mu      sync.Mutex
	start   time.Time
	used    int
}

// errBudget is why a read was not sent.
var errBudget = errors.New("github: the hour's request budget is spent")

func (b *budget) roll() {
	if now := b.now(); now.Sub(b.start) >= time.Hour {
		b.start, b.used = now, 0
	}
}

// reserve counts a read about to be sent, or refuses it once the hour's budget is spent.
func (b *budget) reserve() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll()
	if b.used >= b.perHour {
		return errBudget
	}
	b.used++
	return nil
}

// refund gives back a reserved read GitHub did not count (a 304, or one never answered). One
// reserved before the hour turned gives its place back in the new hour: at most one request
// over for each read in flight at the turn.
func (b *budget) refund() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used > 0 {
		b.used--
	}
}

func (b *budget) spend() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll()
	b.used++
}

// resets says when the current hour's budget is renewed.
func (b *budget) resets() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.start.Add(time.Hour)
}
