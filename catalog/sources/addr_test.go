package sources_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
)

// fakeDNS answers names of its own, so tests can point a name at a test server (or at an address
// that must be refused) without a DNS server.
type fakeDNS map[string][]netip.Addr

func (d fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := d[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

var (
	loopback = netip.MustParseAddr("127.0.0.1")
	metadata = netip.MustParseAddr("169.254.169.254")
)

// addrOf is the address a test server listens on.
func addrOf(t *testing.T, srv *httptest.Server) netip.AddrPort {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ap, err := netip.ParseAddrPort(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// publicOnly treats the given test servers' addresses as public, and only them.
func publicOnly(t *testing.T, servers ...*httptest.Server) func(netip.AddrPort) bool {
	public := map[netip.AddrPort]bool{}
	for _, s := range servers {
		public[addrOf(t, s)] = true
	}
	return func(ap netip.AddrPort) bool { return public[ap] }
}

func TestGuardCheck(t *testing.T) {
	tests := []struct {
		addr          string
		allowLoopback bool
		refused       bool
	}{
		{"10.1.2.3:443", false, false},
		{"192.168.1.10:80", false, false},
		{"[2001:db8::1]:443", false, false},
		{"127.0.0.1:80", false, true},
		{"127.0.0.1:80", true, false},
		{"[::1]:80", true, false},
		{"169.254.169.254:80", false, true},
		{"169.254.169.254:80", true, true}, // allowing loopback does not open link-local
		{"[::ffff:169.254.169.254]:80", true, true},
		{"[fe80::1]:80", true, true},
		{"0.0.0.0:80", true, true},
		{"0.1.2.3:80", false, true},
		{"224.0.0.1:80", false, true},
		{"255.255.255.255:80", false, true},
	}
	for _, tt := range tests {
		g := &sources.Guard{AllowLoopback: tt.allowLoopback}
		err := g.Check(netip.MustParseAddrPort(tt.addr))
		if tt.refused != (err != nil) || (err != nil && !errs.Is(err, errs.Forbidden)) {
			t.Errorf("Check(%s) with AllowLoopback %v = %v; want refused %v", tt.addr, tt.allowLoopback, err, tt.refused)
		}
	}
}

// allow-loopback-locations used to open link-local addresses too, cloud metadata endpoints
// among them.
func TestAllowingLoopbackKeepsLinkLocalAddressesRefused(t *testing.T) {
	for _, target := range []string{"http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/catalog-info.yaml"} {
		_, err := (&sources.URLs{AllowLoopback: true}).Open(context.Background(), catalog.LocationSpec{Type: catalog.LocationURL, Target: target}, "")
		if !errs.Is(err, errs.Forbidden) {
			t.Errorf("url %s with AllowLoopback: want FORBIDDEN, got %v", target, err)
		}
		gitTarget := strings.Replace(target, "/latest/meta-data/", "/repo.git", 1)
		cache := t.TempDir()
		_, err = (&sources.Git{CacheDir: cache, AllowLoopback: true}).Open(context.Background(),
			catalog.LocationSpec{Type: catalog.LocationGit, Target: gitTarget, Path: "catalog-info.yaml"}, "")
		if !errs.Is(err, errs.Forbidden) {
			t.Errorf("git %s with AllowLoopback: want FORBIDDEN, got %v", gitTarget, err)
		}
	}
}

// internalServer stands for a service the server can reach and its users must not: it counts the
// requests that reach it.
func internalServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "kind: Group\nmetadata: {name: internal-secret}\n")
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestURLRedirectsAreCheckedAtEveryHop(t *testing.T) {
	internal, hits := internalServer(t)
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-internal":
			http.Redirect(w, r, internal.URL+"/catalog-info.yaml", http.StatusFound)
		case "/to-metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case "/to-self":
			http.Redirect(w, r, "/catalog-info.yaml", http.StatusFound)
		default:
			io.WriteString(w, "kind: Group\nmetadata: {name: public}\n")
		}
	}))
	t.Cleanup(public.Close)
	g := &sources.Guard{Public: publicOnly(t, public)}
	r := &sources.URLs{Guard: g}
	if _, err := openURL(t, r, public.URL+"/to-self", ""); err != nil {
		t.Fatalf("a redirect within the public server: %v", err)
	}
	for _, path := range []string{"/to-internal", "/to-metadata"} {
		_, err := openURL(t, r, public.URL+path, "")
		if !errs.Is(err, errs.Forbidden) {
			t.Errorf("redirect %s: want FORBIDDEN, got %v", path, err)
		}
	}
	// Loopback allowed: the metadata endpoint stays refused after a redirect.
	loose := &sources.URLs{AllowLoopback: true}
	if _, err := openURL(t, loose, public.URL+"/to-metadata", ""); !errs.Is(err, errs.Forbidden) {
		t.Errorf("redirect to the metadata endpoint with loopback allowed: want FORBIDDEN, got %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the internal server was reached %d times", n)
	}
}

// Placeholders and Location entities of a URL location are fetched under the same rule.
func TestURLPlaceholderAndLocationTargetsAreChecked(t *testing.T) {
	internal, hits := internalServer(t)
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: api}\n"+
			"spec: {type: openapi, lifecycle: production, owner: team, definition: {$text: 'http://169.254.169.254/latest/meta-data/'}}\n"+
			"---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: more}\n"+
			"spec: {targets: ['"+internal.URL+"/catalog-info.yaml']}\n")
	}))
	t.Cleanup(public.Close)
	r := &sources.URLs{Guard: &sources.Guard{Public: publicOnly(t, public)}}
	s, err := openURL(t, r, public.URL+"/catalog-info.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Collect(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	var placeholder, target bool
	for _, e := range c.Errors {
		placeholder = placeholder || strings.Contains(e.Message, "169.254.169.254") && strings.Contains(e.Message, "refused")
		// Reported at the Location that names the target, which is where it can be fixed.
		target = target || e.Source == public.URL+"/catalog-info.yaml" && e.Field == "spec.targets[0]" &&
			strings.Contains(e.Message, internal.URL) && strings.Contains(e.Message, "refused")
	}
	if !placeholder || !target {
		t.Errorf("errors %+v; want the placeholder and the Location target refused", c.Errors)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the internal server was reached %d times", n)
	}
}

// The address checked is the address dialled: the dialler resolves the name itself, checks every
// answer and connects to a checked one.
func TestURLDialsOnlyAddressesItChecked(t *testing.T) {
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "kind: Group\nmetadata: {name: public}\n")
	}))
	t.Cleanup(public.Close)
	port := addrOf(t, public).Port()
	dns := fakeDNS{
		"catalog.test": {loopback},
		"rebind.test":  {metadata},
		"both.test":    {loopback, metadata},
	}
	r := &sources.URLs{Guard: &sources.Guard{Resolver: dns, Public: publicOnly(t, public)}}
	target := func(host string) string { return "http://" + host + ":" + itoa(port) + "/catalog-info.yaml" }
	if _, err := openURL(t, r, target("catalog.test"), ""); err != nil {
		t.Errorf("a name the guard resolved to the public server: %v", err)
	}
	for _, host := range []string{"rebind.test", "both.test"} {
		if _, err := openURL(t, r, target(host), ""); !errs.Is(err, errs.Forbidden) {
			t.Errorf("%s: want FORBIDDEN, got %v", host, err)
		}
	}
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }

// git resolves names itself: the fetch is pinned to the addresses Portside checked.
func TestGitFetchIsPinnedToTheCheckedAddress(t *testing.T) {
	root := t.TempDir()
	repo := newGitRepo(t, filepath.Join(root, "team"))
	head := repo.commit("first", map[string]string{"catalog-info.yaml": "kind: Component\n"})
	srv := gitHTTPServer(t, root)
	port := addrOf(t, srv).Port()
	g := &sources.Git{CacheDir: t.TempDir(), Guard: &sources.Guard{
		Resolver: fakeDNS{"git.test": {loopback}, "rebind.test": {metadata}},
		Public:   publicOnly(t, srv),
	}}
	s, err := openGit(t, g, catalog.LocationSpec{Target: "http://git.test:" + itoa(port) + "/team"}, "")
	if err != nil || s.Revision() != head {
		t.Fatalf("fetch through a name only the guard knows: %v", err)
	}
	if _, err := openGit(t, g, catalog.LocationSpec{Target: "http://rebind.test:" + itoa(port) + "/team"}, ""); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a name that resolves to the metadata address: want FORBIDDEN, got %v", err)
	}
}

// A git server may not redirect a fetch elsewhere: git follows no redirect.
func TestGitFollowsNoRedirect(t *testing.T) {
	root := t.TempDir()
	repo := newGitRepo(t, filepath.Join(root, "team"))
	repo.commit("first", map[string]string{"catalog-info.yaml": "kind: Component\n"})
	internal := gitHTTPServer(t, root)
	var hits atomic.Int32
	counted := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		internal.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(counted.Close)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, counted.URL+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	t.Cleanup(redirector.Close)
	// Loopback is allowed, as in a development setup: only the redirect itself is at stake.
	g := &sources.Git{CacheDir: t.TempDir(), AllowLoopback: true}
	if _, err := openGit(t, g, catalog.LocationSpec{Target: redirector.URL + "/team"}, ""); !errs.Is(err, errs.Unavailable) {
		t.Errorf("fetch through a redirect: want UNAVAILABLE, got %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect was followed: the other server had %d requests", n)
	}
}

// A refused remote is refused before anything is created: the cache stays empty.
func TestRefusedGitRemoteLeavesNothingInTheCache(t *testing.T) {
	requireGit(t)
	internal, _ := internalServer(t)
	for _, target := range []string{internal.URL + "/repo.git", "http://169.254.169.254/repo.git", "git://169.254.169.254/repo.git"} {
		cache := t.TempDir()
		_, err := (&sources.Git{CacheDir: cache}).Open(context.Background(),
			catalog.LocationSpec{Type: catalog.LocationGit, Target: target, Path: "catalog-info.yaml"}, "")
		if !errs.Is(err, errs.Forbidden) {
			t.Errorf("%s: want FORBIDDEN, got %v", target, err)
		}
		if entries, err := os.ReadDir(cache); err != nil || len(entries) != 0 {
			t.Errorf("%s: the git cache holds %d entries (%v); want none", target, len(entries), err)
		}
	}
}

// git:// cannot pin a name to an address: the fetch is given the checked address instead.
func TestGitProtocolFetchConnectsToTheCheckedAddress(t *testing.T) {
	root := t.TempDir()
	repo := newGitRepo(t, filepath.Join(root, "team"))
	head := repo.commit("first", map[string]string{"catalog-info.yaml": "kind: Component\n"})
	port := gitDaemon(t, root)
	g := &sources.Git{CacheDir: t.TempDir(), Guard: &sources.Guard{
		Resolver: fakeDNS{"gitd.test": {loopback}, "rebind.test": {metadata}},
		Public:   func(ap netip.AddrPort) bool { return ap == netip.AddrPortFrom(loopback, port) },
	}}
	s, err := openGit(t, g, catalog.LocationSpec{Target: "git://gitd.test:" + itoa(port) + "/team"}, "")
	if err != nil || s.Revision() != head {
		t.Fatalf("fetch through a name only the guard knows: %v", err)
	}
	if _, err := openGit(t, g, catalog.LocationSpec{Target: "git://rebind.test:" + itoa(port) + "/team"}, ""); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a name that resolves to the metadata address: want FORBIDDEN, got %v", err)
	}
}

// gitDaemon serves the repositories under root with git daemon on a free loopback port.
func gitDaemon(t *testing.T, root string) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	_ = l.Close()
	cmd := exec.Command("git", "daemon", "--reuseaddr", "--export-all", "--base-path="+root,
		"--listen=127.0.0.1", "--port="+itoa(port), root)
	cmd.Env = append(os.Environ(), gitTestEnv...)
	// Its own process group, so that the processes it forks per connection end with it; no pipes,
	// which those processes would hold open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Skipf("git daemon: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	// Ready once it accepts connections.
	testutil.Eventually(t, 10*time.Second, func() bool {
		var c net.Conn
		if c, err = net.Dial("tcp", netip.AddrPortFrom(loopback, port).String()); err != nil {
			return false
		}
		_ = c.Close()
		return true
	}, func() string { return fmt.Sprintf("git daemon did not start: %v", err) })
	return port
}
