package sources

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portside-dev/portside/errs"
)

// URLs reads catalog files over http(s). The location's revision is the server's ETag, so an
// unchanged file costs one conditional request (304 Not Modified) and no parsing. Every request
// (the location's file, placeholder targets, Location entity targets, each redirect hop) is held
// to the address rule (see Guard).
type URLs struct {
	// AllowLoopback lets reads reach loopback addresses (not link-local ones); see Guard.
	AllowLoopback bool
	// Guard, when set, is the address rule, and AllowLoopback is ignored; tests set it to give
	// names and public addresses of their own.
	Guard *Guard
	// MaxFileBytes bounds one file; DefaultMaxFileBytes when 0.
	MaxFileBytes int64

	once   sync.Once
	client *http.Client
}

func (r *URLs) httpClient() *http.Client {
	r.once.Do(func() {
		guard := r.Guard
		if guard == nil {
			guard = &Guard{AllowLoopback: r.AllowLoopback}
		}
		transport := http.DefaultTransport.(*http.Transport).Clone()
		transport.DialContext = guard.DialContext
		r.client = &http.Client{Timeout: 30 * time.Second, Transport: &guardedTransport{base: transport, guard: guard}}
	})
	return r.client
}

// guardedTransport checks, when a proxy does the dialling, the host a request names by resolving
// it: the proxy's own address is what the dialler sees then.
type guardedTransport struct {
	base  *http.Transport
	guard *Guard
}

func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.base.Proxy != nil {
		if proxy, err := t.base.Proxy(req); err == nil && proxy != nil {
			if _, err := t.guard.Resolve(req.Context(), req.URL.Hostname(), urlPort(req.URL)); err != nil {
				return nil, err
			}
		}
	}
	return t.base.RoundTrip(req)
}

// urlPort is the port a URL connects to.
func urlPort(u *url.URL) uint16 {
	if p, err := strconv.ParseUint(u.Port(), 10, 16); err == nil {
		return uint16(p)
	}
	switch u.Scheme {
	case "https":
		return 443
	case "git":
		return 9418
	}
	return 80
}

// Check accepts absolute http and https URLs.
func (*URLs) Check(spec catalogSpec) (catalogSpec, error) {
	u, err := parseHTTPURL(spec.Target)
	if err != nil {
		return spec, errs.InvalidField("target", "%s", errs.PublicMessage(err))
	}
	spec.Target = u.String()
	return spec, nil
}

func parseHTTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errs.E(errs.Invalid, "%q is not an absolute http(s) URL", raw)
	}
	if err := refuseCredentials(u); err != nil {
		return nil, err
	}
	return u, nil
}

// refuseCredentials keeps passwords and tokens out of location targets, which every reader of the
// catalog sees and which appear in logs and error messages.
func refuseCredentials(u *url.URL) error {
	if u.User != nil { // a user part is a password or a token as often as it is a name
		return errs.E(errs.Invalid, "the URL carries credentials (user info before the host); location targets are shown to every catalog reader, so they must not hold any")
	}
	for k := range u.Query() {
		if secretParams[strings.ToLower(k)] {
			return errs.E(errs.Invalid, "the URL carries a credential in its query (%s); location targets are shown to every catalog reader, so they must not hold any", k)
		}
	}
	return nil
}

// secretParams are query parameters that carry credentials (GitLab, GitHub, S3 and GCS signed URLs).
var secretParams = map[string]bool{
	"token": true, "access_token": true, "private_token": true, "password": true, "secret": true,
	"api_key": true, "apikey": true, "key": true, "sig": true, "signature": true,
	"x-amz-signature": true, "x-amz-credential": true, "x-goog-signature": true, "x-goog-credential": true,
}

// Open fetches the target, conditionally on since (an ETag from an earlier read).
func (r *URLs) Open(ctx context.Context, spec catalogSpec, since string) (snapshot, error) {
	s := &urlSnapshot{client: r.httpClient(), limit: maxBytes(r.MaxFileBytes), fetched: map[string][]byte{}}
	etag, _ := strings.CutPrefix(since, "etag:")
	if !strings.HasPrefix(since, "etag:") {
		etag = "" // a content hash from a server that sent no ETag: nothing to ask with
	}
	body, etag, notModified, err := s.get(ctx, spec.Target, etag)
	if err != nil {
		return nil, err
	}
	if etag != "" {
		s.revision = "etag:" + etag
	}
	if notModified {
		s.unchanged = true
		return s, nil
	}
	s.fetched[spec.Target] = body
	s.files = []string{spec.Target}
	return s, nil
}

type urlSnapshot struct {
	client    *http.Client
	limit     int64
	files     []string
	revision  string
	unchanged bool
	mu        sync.Mutex
	fetched   map[string][]byte
}

func (s *urlSnapshot) Revision() string { return s.revision }
func (s *urlSnapshot) Unchanged() bool  { return s.unchanged }
func (s *urlSnapshot) Sealed() bool     { return false }
func (s *urlSnapshot) Files() []string  { return s.files }
func (s *urlSnapshot) Close() error     { return nil }

func (s *urlSnapshot) ReadFile(ctx context.Context, name string) ([]byte, error) {
	s.mu.Lock()
	b, ok := s.fetched[name]
	s.mu.Unlock()
	if ok {
		return b, nil
	}
	b, _, _, err := s.get(ctx, name, "")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.fetched[name] = b
	s.mu.Unlock()
	return b, nil
}

// get fetches one URL. With an etag it asks for the content only if it changed.
func (s *urlSnapshot) get(ctx context.Context, target, etag string) (body []byte, newETag string, notModified bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, "", false, errs.E(errs.Invalid, "%q is not a valid URL", target)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	req.Header.Set("Accept", "application/yaml, text/yaml, text/plain, */*")
	resp, err := s.client.Do(req)
	if err != nil {
		var refused *errs.Error
		if errors.As(err, &refused) && refused.Code == errs.Forbidden {
			return nil, "", false, refused // the address guard said no
		}
		return nil, "", false, errs.Wrap(errs.Unavailable, err, "fetch %s", target)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return nil, etag, true, nil
	case resp.StatusCode == http.StatusNotFound:
		return nil, "", false, errs.E(errs.NotFound, "%s: 404 Not Found", target)
	case resp.StatusCode != http.StatusOK:
		return nil, "", false, errs.E(errs.Unavailable, "%s: the server answered %s", target, resp.Status)
	}
	body, err = readLimited(resp.Body, target, s.limit)
	return body, resp.Header.Get("ETag"), false, err
}

// Resolve reads a relative target as a URL relative to base; absolute http(s) URLs are allowed.
func (s *urlSnapshot) Resolve(base, target string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", errs.E(errs.Invalid, "%q is not a URL", base)
	}
	t, err := url.Parse(target)
	if err != nil {
		return "", errs.E(errs.Invalid, "%q is not a valid relative URL", target)
	}
	u := b.ResolveReference(t)
	if _, err := parseHTTPURL(u.String()); err != nil {
		return "", err
	}
	return u.String(), nil
}

// Glob cannot list a web server: patterns are refused, names pass through.
func (s *urlSnapshot) Glob(pattern string) ([]string, error) {
	if u, err := url.Parse(pattern); err == nil && hasMeta(u.Path) {
		return nil, errs.E(errs.Invalid, "%s: URL locations cannot expand globs", pattern)
	}
	return []string{pattern}, nil
}
