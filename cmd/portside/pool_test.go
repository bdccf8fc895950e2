package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// TestEachReplicasConnectionsStayWithinItsPoolUnderTenfoldLoad: three replicas on one PostgreSQL
// schema, each with a pool of 4 (database-max-conns) and its own application_name, each asked 40
// GraphQL queries at once, over and over: PostgreSQL never sees more sessions of a replica than
// its pool and its two dedicated sessions (the leader's lock, the bus's LISTEN).
func TestEachReplicasConnectionsStayWithinItsPoolUnderTenfoldLoad(t *testing.T) {
	const pool, load, rounds = 4, 40, 5
	dsn := storetest.PostgresURL(t)
	wantExit(t, portside(t, []string{"PORTSIDE_DATABASE_URL=" + dsn}, "migrate", "up"), 0, "migrate up")
	tok := strings.Split(strings.TrimSpace(portside(t, []string{"PORTSIDE_DATABASE_URL=" + dsn}, "token", "create", "--user", "ops", "--admin").stdout), "\n")
	token := tok[len(tok)-1]
	prefix := "pooltest-" + fmt.Sprint(time.Now().UnixNano()%1e9)
	var procs []*serveProc
	for i := range 3 {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("application_name", fmt.Sprintf("%s-%d", prefix, i))
		u.RawQuery = q.Encode()
		s := startServe(t, []string{"PORTSIDE_DATABASE_URL=" + u.String(), "PORTSIDE_DATABASE_MAX_CONNS=" + fmt.Sprint(pool)}, "--dev-login", "false")
		s.waitReady(t)
		procs = append(procs, s)
	}
	admin, err := store.Open(context.Background(), dsn, store.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	// Sample pg_stat_activity while the load runs.
	most := map[string]int{}
	var mu sync.Mutex
	stop := make(chan struct{})
	sampled := make(chan int)
	go func() {
		n := 0
		defer func() { sampled <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			rows, err := admin.SQL().Query(`SELECT application_name, count(*) FROM pg_stat_activity WHERE application_name LIKE $1 GROUP BY 1`, prefix+"-%")
			if err == nil {
				for rows.Next() {
					var name string
					var c int
					if rows.Scan(&name, &c) == nil {
						mu.Lock()
						most[name] = max(most[name], c)
						mu.Unlock()
					}
				}
				rows.Close()
				n++
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	var failed sync.Map
	for round := range rounds {
		for _, s := range procs {
			for i := range load {
				wg.Go(func() {
					var out struct {
						DeployRequests struct{ TotalCount int }
						Tasks          struct{ TotalCount int }
					}
					// Different variables each time: no response cache answers in the database's stead.
					body := `query($n: Int!) { deployRequests(first: $n) { totalCount } tasks(first: $n) { totalCount } }`
					if err := s.tryGQL(token, &out, body, map[string]any{"n": 1 + (round*load+i)%50}); err != nil {
						failed.Store(err.Error(), true)
					}
				})
			}
		}
		wg.Wait()
	}
	close(stop)
	samples := <-sampled
	failed.Range(func(k, _ any) bool { t.Errorf("a query under load failed: %v", k); return true })
	if samples < 3 || len(most) == 0 {
		t.Fatalf("%d samples of pg_stat_activity saw %v: too few to tell", samples, most)
	}
	t.Logf("pool %d, %d queries at once per replica, %d rounds: at most %v sessions per replica (%d samples)", pool, load, rounds, most, samples)
	for name, n := range most {
		if n > pool+2 {
			t.Errorf("%s had %d sessions at once, more than its pool of %d and its 2 dedicated ones", name, n, pool)
		}
	}
}
