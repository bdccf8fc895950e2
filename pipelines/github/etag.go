package github

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// etagCache makes GETs conditional: it keeps the last answer of each URL with its ETag, sends
// If-None-Match, and answers a 304 with the kept body. GitHub does not count a 304 against the
// rate limit, so polling runs that did not change is free.
type etagCache struct {
	next  http.RoundTripper
	limit int
	hits  atomic.Int64
	mu    sync.Mutex
	byURL map[string]cached
}

type cached struct {
	etag   string
	body   []byte
	header http.Header
}

func newETagCache(next http.RoundTripper, limit int) *etagCache {
	if next == nil {
		next = http.DefaultTransport
	}
	return &etagCache{next: next, limit: limit, byURL: map[string]cached{}}
}

// maxCachedBody keeps large answers out of the cache.
const maxCachedBody = 1 << 20

func (c *etagCache) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		return c.next.RoundTrip(req)
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
		return nil, err
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
