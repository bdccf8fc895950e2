package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

func TestAfterCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		probeStore(t, s)
		ctx := context.Background()

		t.Run("runs once the outermost transaction committed, in order, and sees its writes", func(t *testing.T) {
			t.Cleanup(func() { s.Gorm().Exec("DELETE FROM tx_probe") })
			var ran []string
			err := s.InTx(ctx, func(outer context.Context) error {
				err := s.InTx(outer, func(inner context.Context) error {
					store.AfterCommit(inner, func() { ran = append(ran, fmt.Sprint("first sees ", probes(t, ctx, s))) })
					return insertProbe(inner, s, 1)
				})
				if err != nil {
					return err
				}
				if len(ran) != 0 {
					t.Errorf("ran %q when the inner InTx returned, before the outer commit", ran)
				}
				store.AfterCommit(outer, func() { ran = append(ran, "second") })
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ran) != "[first sees [1] second]" {
				t.Errorf("ran %q, want both in order, once, after the row committed", ran)
			}
		})

		t.Run("never runs when the transaction rolls back", func(t *testing.T) {
			ran := false
			boom := errors.New("boom")
			err := s.InTx(ctx, func(ctx context.Context) error {
				store.AfterCommit(ctx, func() { ran = true })
				return boom
			})
			if !errors.Is(err, boom) || ran {
				t.Errorf("InTx = %v, ran %v; want %v and not run", err, ran, boom)
			}
		})

		t.Run("runs at once outside a transaction", func(t *testing.T) {
			ran := false
			store.AfterCommit(ctx, func() { ran = true })
			if !ran {
				t.Error("AfterCommit outside a transaction did not run fn")
			}
		})
	})
}

func TestNotifyOnCommit(t *testing.T) {
	ctx := context.Background()

	t.Run("keeps nothing outside a PostgreSQL transaction", func(t *testing.T) {
		lite := storetest.SQLite(t)
		err := lite.InTx(ctx, func(ctx context.Context) error {
			if store.NotifyOnCommit(ctx, "c", "m") {
				t.Error("NotifyOnCommit took a message in a SQLite transaction")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if store.NotifyOnCommit(ctx, "c", "m") {
			t.Error("NotifyOnCommit took a message outside a transaction")
		}
	})

	t.Run("listeners hear a committed transaction's messages in order, and never a rolled-back one's", func(t *testing.T) {
		s := storetest.Postgres(t)
		listener := listen(t, s, "store_test_notify")
		send := func(fail bool, payloads ...string) {
			t.Helper()
			err := s.InTx(ctx, func(ctx context.Context) error {
				for _, p := range payloads {
					if !store.NotifyOnCommit(ctx, "store_test_notify", p) {
						t.Fatal("NotifyOnCommit refused a message in a PostgreSQL transaction")
					}
				}
				if fail {
					return errors.New("rolled back")
				}
				return nil
			})
			if (err != nil) != fail {
				t.Fatalf("InTx = %v", err)
			}
		}
		send(true, "rolled back")
		send(false, "one", "two")
		// Had the rolled-back message been sent, it would come first.
		if got := receive(t, listener, 2); fmt.Sprint(got) != "[one two]" {
			t.Errorf("the listener heard %q, want the committed messages only, in order", got)
		}
	})
}

// listen opens a session of its own that listens on channel until the test ends.
func listen(t *testing.T, s *store.Store, channel string) *pgx.Conn {
	t.Helper()
	conn, err := s.Dedicated(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(context.Background(), "LISTEN "+channel); err != nil {
		t.Fatal(err)
	}
	return conn
}

// receive waits for n notifications and returns their payloads.
func receive(t *testing.T, conn *pgx.Conn, n int) []string {
	t.Helper()
	var got []string
	for len(got) < n {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		m, err := conn.WaitForNotification(ctx)
		cancel()
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, m.Payload)
	}
	return got
}
