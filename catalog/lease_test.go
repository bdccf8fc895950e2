package catalog

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/proc"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// memReader serves one in-memory catalog file; when gate is set, Open waits on it after saying
// so on opened, to hold a refresh in the middle.
type memReader struct {
	content      string
	opened, gate chan struct{}
}

func (r *memReader) Check(spec LocationSpec) (LocationSpec, error) { return spec, nil }

func (r *memReader) Open(_ context.Context, _ LocationSpec, _ string) (Snapshot, error) {
	if r.gate != nil {
		r.opened <- struct{}{}
		<-r.gate
	}
	return memSnapshot{r.content}, nil
}

type memSnapshot struct{ content string }

func (memSnapshot) Revision() string { return "" }
func (memSnapshot) Unchanged() bool  { return false }
func (memSnapshot) Sealed() bool     { return true }
func (memSnapshot) Files() []string  { return []string{"catalog-info.yaml"} }
func (m memSnapshot) ReadFile(_ context.Context, name string) ([]byte, error) {
	if name != "catalog-info.yaml" {
		return nil, errs.E(errs.NotFound, "%s: %v", name, fs.ErrNotExist)
	}
	return []byte(m.content), nil
}
func (memSnapshot) Resolve(_, target string) (string, error) { return target, nil }
func (memSnapshot) Glob(p string) ([]string, error)          { return []string{p}, nil }
func (memSnapshot) Close() error                             { return nil }

// asCLI acts as `portside catalog import` does.
var asCLI = principal.With(context.Background(), principal.System("test", principal.ClientCLI))

const leaseGroup = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-a}\nspec: {type: team, children: []}\n"

func leaseService(st *store.Store, r Reader, now func() time.Time) *Service {
	return NewService(st, Options{Readers: map[LocationType]Reader{LocationFile: r}, Logger: slog.New(slog.DiscardHandler), Now: now})
}

// deadPID returns the PID of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func setLease(t *testing.T, st *store.Store, id int64, owner string, until time.Time) {
	t.Helper()
	if err := st.Gorm().Exec("UPDATE locations SET lease_owner = ?, lease_until = ? WHERE id = ?", owner, until.UTC(), id).Error; err != nil {
		t.Fatal(err)
	}
}

// A `portside catalog import` that crashed mid-refresh left a lease that blocked the next import
// for five minutes ("try again in a moment"). A lease whose holder is gone is now taken over at
// once; a live holder still blocks.
func TestLeaseOfAHolderThatIsGoneIsTakenOverAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		svc := leaseService(st, &memReader{content: leaseGroup}, nil)
		res, err := svc.registerLocation(asCLI, LocationSpec{Type: LocationFile, Target: "mem"})
		if err != nil {
			t.Fatal(err)
		}
		id := res.Location.ID
		later := time.Now().Add(5 * time.Minute) // what the old lease length left behind
		dead := proc.Identity{Host: proc.Self().Host, PID: deadPID(t), Start: "1"}
		otherHost := proc.Identity{Host: "elsewhere", PID: deadPID(t), Start: "1"}
		parent := proc.Of(os.Getppid())
		reused := proc.Identity{Host: proc.Self().Host, PID: os.Getppid(), Start: "1"} // a live PID that started at another time
		tests := []struct {
			name  string
			owner string
			until time.Time
			want  errs.Code // "" when the refresh proceeds
		}{
			{"holder on this host whose process is gone", owner(dead, "svc", "r1"), later, ""},
			{"holder whose PID another process has now", owner(reused, "svc", "r1"), later, ""},
			{"holder whose heartbeat lapsed", owner(otherHost, "svc", "r1"), time.Now().Add(-time.Second), ""},
			{"live holder in this process", owner(proc.Self(), "svc", "r1"), later, errs.Conflict},
			{"live holder in another process on this host", owner(parent, "svc", "r1"), later, errs.Conflict},
			{"holder on another host, heartbeat fresh", owner(otherHost, "svc", "r1"), later, errs.Conflict},
			{"holder named the old way", "0123456789abcdef/fedcba9876543210", later, errs.Conflict},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				setLease(t, st, id, tt.owner, tt.until)
				t.Cleanup(func() { setLease(t, st, id, "", time.Time{}) })
				_, err := svc.refreshLocation(context.Background(), id)
				if tt.want == "" && err != nil {
					t.Fatalf("refresh: %v; want it to proceed", err)
				}
				if tt.want != "" && !errs.Is(err, tt.want) {
					t.Fatalf("refresh: %v; want %s", err, tt.want)
				}
			})
		}
	})
}

// A live refresh renews its lease, which lasts a short while past each renewal, so a holder that
// dies anywhere blocks others for leaseFor at most.
func TestRefreshRenewsAShortLeaseWhileItWorks(t *testing.T) {
	storetest.Each(t, testRefreshRenewsAShortLease)
}

func testRefreshRenewsAShortLease(t *testing.T, st *store.Store) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	r := &memReader{content: leaseGroup}
	svc := leaseService(st, r, now)
	res, err := svc.registerLocation(asCLI, LocationSpec{Type: LocationFile, Target: "mem"})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Location.ID
	r.opened, r.gate = make(chan struct{}), make(chan struct{})
	svc.beat = time.Millisecond
	done := make(chan error)
	go func() {
		_, err := svc.refreshLocation(context.Background(), id)
		done <- err
	}()
	<-r.opened // the refresh holds its lease
	lease := func() (string, time.Time) {
		var row locationRow
		if err := st.Gorm().Select("lease_owner, lease_until").Take(&row, "id = ?", id).Error; err != nil || row.LeaseUntil == nil {
			t.Fatalf("lease: %+v, %v", row, err)
		}
		return row.LeaseOwner, row.LeaseUntil.UTC()
	}
	holder, until := lease()
	if !until.Equal(now().Add(leaseFor)) {
		t.Errorf("lease until %v, want %v (now + %v)", until, now().Add(leaseFor), leaseFor)
	}
	if want := owner(proc.Self(), svc.holder, ""); !strings.HasPrefix(holder, want) {
		t.Errorf("lease owner %q does not name this process (%q...)", holder, want)
	}
	clock.Add(int64(time.Minute))
	testutil.Eventually(t, 10*time.Second, func() bool { _, u := lease(); return u.Equal(now().Add(leaseFor)) },
		func() string { return fmt.Sprintf("the lease was not renewed: until %v, now %v", until, now()) })
	close(r.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var row locationRow
	if err := st.Gorm().Select("lease_owner, lease_until").Take(&row, "id = ?", id).Error; err != nil || row.LeaseOwner != "" || row.LeaseUntil != nil {
		t.Errorf("lease after the refresh: %q until %v (%v); want none", row.LeaseOwner, row.LeaseUntil, err)
	}
}

// On PostgreSQL a renewal never waits long behind a transaction that holds the location's row
// (an apply's, which renews the lease itself as it commits) or its table (a first import
// rebuilding its foreign keys): waiting, it kept a snapshot from before that commit, and the
// VACUUM after a million-entity import could not mark what it wrote visible to all. The
// heartbeat takes the refusal as a beat to skip, not as the lease lost. The rows an apply
// inserts only share the location's key: a renewal goes on beside them.
func TestALeaseRenewalNeverWaitsForTheLocationsRow(t *testing.T) {
	st := storetest.Postgres(t)
	svc := leaseService(st, &memReader{content: leaseGroup}, time.Now)
	res, err := svc.registerLocation(asCLI, LocationSpec{Type: LocationFile, Target: "mem"})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Location.ID
	setLease(t, st, id, "me", time.Now().Add(time.Minute))
	renew := func() (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return svc.renewLease(ctx, id, "me", time.Now().Add(2*time.Minute))
	}
	for _, holder := range []struct{ name, statement string }{
		{"a transaction that updated the row", "UPDATE locations SET message = message WHERE id = " + strconv.FormatInt(id, 10)},
		{"a transaction that locked the table as ADD FOREIGN KEY does", "LOCK TABLE locations IN SHARE ROW EXCLUSIVE MODE"},
	} {
		tx := st.Gorm().Begin()
		if err := tx.Exec(holder.statement).Error; err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		held, err := renew()
		if err != errLeaseBusy || !held || time.Since(start) > 3*time.Second {
			t.Errorf("renewal beside %s: held %v, %v after %v; want held, errLeaseBusy at once", holder.name, held, err, time.Since(start))
		}
		tx.Rollback()
	}
	// An apply's inserts of the location's entities share-lock its key: the renewal goes on.
	tx := st.Gorm().Begin()
	if err := tx.Exec("INSERT INTO location_errors (location_id, source, document, line, field, entity_ref, message) VALUES (?, 'f', 1, 1, '', '', 'm')", id).Error; err != nil {
		t.Fatal(err)
	}
	if held, err := renew(); err != nil || !held {
		t.Errorf("renewal beside an apply's insert: held %v, %v; want renewed", held, err)
	}
	tx.Rollback()
	if held, err := renew(); err != nil || !held {
		t.Errorf("renewal once the row is free: held %v, %v", held, err)
	}
	if held, err := svc.renewLease(context.Background(), id, "someone else", time.Now().Add(2*time.Minute)); err != nil || held {
		t.Errorf("renewal by another holder: held %v, %v; want not held", held, err)
	}
}

// A transaction older than an import's rows keeps VACUUM from marking them visible to all: the
// statistics step says so, naming the table, rather than leaving reads slow without a word.
func TestVacuumHeldBackByAnOlderTransactionIsLogged(t *testing.T) {
	st := storetest.Postgres(t)
	var logged bytes.Buffer
	svc := NewService(st, Options{Readers: map[LocationType]Reader{LocationFile: &memReader{content: leaseGroup}},
		Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	old := unmarkedPagesMin
	unmarkedPagesMin = 0
	t.Cleanup(func() { unmarkedPagesMin = old })
	older := st.Gorm().Begin(&sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	defer older.Rollback()
	var n int64
	if err := older.Raw("SELECT count(*) FROM locations").Scan(&n).Error; err != nil { // its snapshot
		t.Fatal(err)
	}
	if _, err := svc.registerLocation(asCLI, LocationSpec{Type: LocationFile, Target: "mem"}); err != nil {
		t.Fatal(err)
	}
	logged.Reset()
	if err := svc.Analyze(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logged.String(), "VACUUM left most of a table's pages unmarked") || !strings.Contains(logged.String(), "table=entities") {
		t.Errorf("no warning naming entities after a VACUUM an older transaction held back; the log:\n%s", logged.String())
	}
	older.Rollback()
	logged.Reset()
	if err := svc.Analyze(context.Background()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logged.String(), "unmarked") {
		t.Errorf("a warning after a VACUUM nothing held back:\n%s", logged.String())
	}
}
