package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// A statement PostgreSQL refused because of a concurrent transaction (a deadlock, a
// serialization failure, a lock not taken in time) is no bug: it is UNAVAILABLE, names what was
// being written, says that it clashed with a concurrent change and may be retried, and keeps its
// cause. Other refusals stay INTERNAL.
func TestAClashWithAConcurrentChangeIsUnavailable(t *testing.T) {
	for _, tt := range []struct {
		code, says string
	}{
		{"40P01", "a deadlock"},
		{"40001", "a serialization failure"},
		{"55P03", "a lock it could not take in time"},
	} {
		t.Run(tt.code, func(t *testing.T) {
			cause := &pgconn.PgError{Severity: "ERROR", Code: tt.code, Message: "refused"}
			got := store.Translate(fmt.Errorf("update: %w", cause), "alert 7")
			if errs.CodeOf(got) != errs.Unavailable || !errors.Is(got, cause) {
				t.Fatalf("Translate(SQLSTATE %s) = %v (%s), want %s wrapping the cause", tt.code, got, errs.CodeOf(got), errs.Unavailable)
			}
			want := "alert 7: the statement clashed with a concurrent change (" + tt.says + ") and may be retried"
			if msg := errs.PublicMessage(got); msg != want {
				t.Errorf("message %q, want %q", msg, want)
			}
		})
	}
	t.Run("another refusal is internal", func(t *testing.T) {
		cause := &pgconn.PgError{Severity: "ERROR", Code: "42601", Message: "syntax error"}
		if got := store.Translate(cause, "alert 7"); errs.CodeOf(got) != errs.Internal {
			t.Errorf("Translate(SQLSTATE 42601) = %v (%s), want %s", got, errs.CodeOf(got), errs.Internal)
		}
	})
}

// Two transactions that lock two rows in opposite orders deadlock for real: PostgreSQL ends one
// of them (40P01), which is UNAVAILABLE, and the other commits.
func TestARealDeadlockIsUnavailable(t *testing.T) {
	s := storetest.Postgres(t)
	ctx := context.Background()
	probeStore(t, s)
	for _, n := range []int{1, 2} {
		if err := insertProbe(ctx, s, n); err != nil {
			t.Fatal(err)
		}
	}
	lock := func(ctx context.Context, n int) error {
		return store.Translate(s.DB(ctx).Exec("UPDATE tx_probe SET n = n WHERE n = ?", n).Error, fmt.Sprintf("probe %d", n))
	}
	// Each transaction locks its first row, waits until the other has locked its own, then asks
	// for the other's.
	locked := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	inOrder := func(i, first, second int) error {
		return s.InTx(ctx, func(ctx context.Context) error {
			err := lock(ctx, first)
			close(locked[i])
			if err != nil {
				return err
			}
			<-locked[1-i]
			return lock(ctx, second)
		})
	}
	var results [2]error
	var wg sync.WaitGroup
	wg.Go(func() { results[0] = inOrder(0, 1, 2) })
	wg.Go(func() { results[1] = inOrder(1, 2, 1) })
	wg.Wait()

	var failed []error
	for _, err := range results {
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) != 1 {
		t.Fatalf("the two transactions ended with %v; want one of them ended by the deadlock and the other committed", results)
	}
	err := failed[0]
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "40P01" {
		t.Fatalf("the failed transaction: %v; want PostgreSQL's deadlock_detected (40P01)", err)
	}
	if errs.CodeOf(err) != errs.Unavailable || !strings.Contains(errs.PublicMessage(err), "clashed with a concurrent change (a deadlock) and may be retried") {
		t.Errorf("the deadlock was answered %s %q; want %s saying it clashed with a concurrent change and may be retried",
			errs.CodeOf(err), errs.PublicMessage(err), errs.Unavailable)
	}
}

// A SQLite database another connection is writing to, once busy_timeout has run out
// (SQLITE_BUSY), is UNAVAILABLE as PostgreSQL's lock clashes are.
func TestABusySQLiteDatabaseIsUnavailable(t *testing.T) {
	ctx := context.Background()
	path := storetest.SQLiteURL(t)
	writer := storetest.Open(t, path, true)
	probeStore(t, writer)
	// busy_timeout 0: refused at once rather than after the default 10 s wait.
	other := storetest.Open(t, "file:"+path+"?_pragma=busy_timeout(0)", false)

	locked, done := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	var writerErr error
	wg.Go(func() {
		writerErr = writer.InTx(ctx, func(ctx context.Context) error {
			err := insertProbe(ctx, writer, 1) // IMMEDIATE: the database is the writer's until it commits
			close(locked)
			if err != nil {
				return err
			}
			<-done
			return nil
		})
	})
	<-locked
	err := insertProbe(ctx, other, 2)
	close(done)
	wg.Wait()
	if writerErr != nil {
		t.Fatal(writerErr)
	}
	if err == nil {
		t.Fatal("a second connection wrote while the first held the database's write lock")
	}
	got := store.Translate(err, "probe 2")
	if errs.CodeOf(got) != errs.Unavailable || !strings.Contains(errs.PublicMessage(got), "probe 2: the statement clashed with a concurrent change") {
		t.Errorf("Translate(%v) = %s %q; want %s saying it clashed with a concurrent change", err, errs.CodeOf(got), errs.PublicMessage(got), errs.Unavailable)
	}
}
