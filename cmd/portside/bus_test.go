package main

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portside-dev/portside/internal/bus/pgbus"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// TestACommandOnPostgresTellsTheServeReplicas: a change made by a command (here a catalog import)
// reaches the replicas listening on the schema's channel, as a change made through one of them
// does, so their caches drop what it made stale at once rather than at their next check.
func TestACommandOnPostgresTellsTheServeReplicas(t *testing.T) {
	pg := storetest.PostgresURL(t)
	env := []string{"PORTSIDE_DATABASE_URL=" + pg}
	wantExit(t, portside(t, env, "migrate", "up"), 0, "migrate up")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := store.Open(ctx, pg, store.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var schema string
	if err := st.DB(ctx).Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatal(err)
	}
	replica := pgbus.New(pgbus.Channel(schema), st.Dedicated, st.SQL(), pgbus.Options{})
	var heard atomic.Int64
	replica.Handle("catalog.changed", func([]byte) { heard.Add(1) })
	done := make(chan struct{})
	go func() { defer close(done); replica.Run(ctx) }()
	defer func() { cancel(); <-done }()
	testutil.Eventually(t, 20*time.Second, replica.Listening, "the replica never listened")

	dir := catalogDir(t, map[string]string{"catalog-info.yaml": validCatalog})
	wantExit(t, portside(t, env, "catalog", "import", dir), 0, "catalog import")
	// The command has exited: what it sent is in PostgreSQL's queue for the listener already.
	testutil.Eventually(t, 20*time.Second, func() bool { return heard.Load() >= 1 }, "the replica never heard the import's catalog change")

	// On SQLite there is no replica to tell, and no bus: the command works as before.
	db := filepath.Join(t.TempDir(), "portside.db")
	wantExit(t, portside(t, nil, "--database", db, "catalog", "import", dir), 0, "catalog import on SQLite")
}
