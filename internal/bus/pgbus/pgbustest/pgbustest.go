// Package pgbustest gives tests of several replicas in one process a real PostgreSQL bus each.
package pgbustest

import (
	"context"
	"testing"
	"time"

	"github.com/portside-dev/portside/internal/bus/pgbus"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store"
)

// New returns a bus on st's schema, and start, which runs it until the test ends and waits until
// it listens: build the services on the bus (they register their topics), then start it.
func New(t testing.TB, st *store.Store) (*pgbus.Bus, func()) {
	t.Helper()
	var schema string
	if err := st.Gorm().Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatal(err)
	}
	b := pgbus.New(pgbus.Channel(schema), st.Dedicated, st.SQL(), pgbus.Options{MinBackoff: 10 * time.Millisecond})
	return b, func() {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); b.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		testutil.Eventually(t, 10*time.Second, b.Listening, "the bus never listened")
	}
}
