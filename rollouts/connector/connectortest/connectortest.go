// Package connectortest relays sources through the connector protocol inside a test, so that
// tests follow Argo CD the way portside serve does (over portside-argocd's socket) without
// building the companion binary.
package connectortest

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/rollouts/connector"
)

// Relay serves the sources on a Unix socket, as portside-argocd does, and returns them as the
// server sees them: through the socket. Both end with the test.
func Relay(t testing.TB, sources ...rollouts.Source) []rollouts.Source {
	t.Helper()
	names := make([]string, len(sources))
	for i, s := range sources {
		names[i] = s.Name()
	}
	return connector.Dial(Serve(t, sources...), names)
}

// Serve serves the sources on a Unix socket until the test ends and returns its path.
func Serve(t testing.TB, sources ...rollouts.Source) string {
	t.Helper()
	// Not t.TempDir: a socket path must stay under about 100 bytes, and test names are long.
	dir, err := os.MkdirTemp("", "portside-relay-")
	if err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "connector.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: connector.Handler(sources)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		_ = os.RemoveAll(dir)
	})
	return socket
}
