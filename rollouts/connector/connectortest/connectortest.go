// Package connectortest relays sources through the connector protocol inside a test, so that
// tests follow Argo CD the way portside serve does (through portside-argocd's net/rpc over a
// Unix socket) without building the companion binary.
package connectortest

import (
	"net"
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
	out, conn, err := connector.Dial(Serve(t, sources...), names)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return out
}

// Serve serves the sources on a Unix socket until the test ends and returns its path; it takes
// one connection (connector.Dial).
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
	served := make(chan struct{})
	go func() {
		defer close(served)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		connector.ServeConn(conn, sources)
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-served
		_ = os.RemoveAll(dir)
	})
	return socket
}
