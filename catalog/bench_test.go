package catalog_test

// Benchmarks of the catalog's hot paths: parsing a document, ingesting a generated catalog, and the
// two reads the API serves most (an entity by ref, an owner's page). They run on SQLite; the load
// driver (go run ./bench/load) measures both dialects end to end. Run with
//
//	go test -run '^$' -bench . -benchmem ./catalog/

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/portside-dev/portside/bench/benchcat"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// benchScale is the size of the generated catalog the benchmarks ingest and read: 1,000
// components, 1,686 entities, about 13,000 relations.
const benchScale = 0.1

// typicalComponent is a component document as teams write them: annotations, tags, a link, and
// the usual relations.
const typicalComponent = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-ledger-svc
  title: Payments Ledger Service
  description: Records every payment movement for the finance teams, with exactly-once guarantees.
  labels:
    tier: critical
  annotations:
    github.com/project-slug: acme/payments-ledger-svc
    backstage.io/techdocs-ref: dir:.
    argocd/app-name: payments-ledger-svc
    pagerduty.com/service-id: P0LEDGR
  tags: [go, grpc, tier-1, pci]
  links:
    - url: https://grafana.acme.example/d/payments-ledger
      title: Dashboard
      icon: dashboard
      type: dashboard
spec:
  type: service
  lifecycle: production
  owner: team-payments-ledger
  system: payments-core
  dependsOn:
    - resource:payments-ledger-db
    - resource:payments-events-topic
    - component:payments-fx-rates-svc
  providesApis: [payments-ledger-api, payments-ledger-events]
  consumesApis: [api:identity-users-api, api:payments-fx-rates-api]
`

func BenchmarkParseDocument(b *testing.B) {
	data := []byte(typicalComponent)
	if res := backstage.Parse("catalog-info.yaml", data, nil); len(res.Errors()) > 0 || len(res.Documents) != 1 {
		b.Fatalf("the benchmark document is not valid: %v", res.Errors())
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		res := backstage.Parse("catalog-info.yaml", data, nil)
		if res.Documents[0].Entity == nil {
			b.Fatal("no entity")
		}
	}
}

// BenchmarkCollect is the CPU an import spends in this process per entity, without the database:
// reading the generated catalog's shards, parsing and validating them, encoding and hashing each
// entity, and building its row (search text, tags) as an insert does.
func BenchmarkCollect(b *testing.B) {
	dir := benchcat.Generate(b, 1)
	snap, err := (&sources.Files{}).Open(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir}, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	entities := 0
	cpu0 := processCPU()
	for b.Loop() {
		entities = 0
		c, err := catalog.CollectStream(operator, snap, 0, func(es []*backstage.Entity, bodies []string) error {
			for i, e := range es {
				_ = catalog.EntityRowFor(e, bodies[i])
			}
			entities += len(es)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if c.ErrorCount > 0 || entities == 0 {
			b.Fatalf("collected %d entities with %d errors", entities, c.ErrorCount)
		}
	}
	// Collection parses on every core: on a busy machine its wall time says little, its CPU time
	// (the whole process's, so the benchmark's loop must be all that runs) is what an import pays.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N)/float64(entities), "cpu-ns/entity")
}

// benchService is a catalog service over st as serve builds it: file locations, the default
// read cache size.
func benchService(st *store.Store) *catalog.Service {
	return catalog.NewService(st, catalog.Options{
		Readers:   map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{}},
		CacheSize: 50000,
		Logger:    slog.New(slog.DiscardHandler),
	})
}

func BenchmarkIngest(b *testing.B) {
	dir := benchcat.Generate(b, benchScale)
	ctx := operator
	tmp := b.TempDir()
	entities, n := 0, 0
	for b.Loop() {
		b.StopTimer()
		n++
		path := filepath.Join(tmp, fmt.Sprintf("ingest-%d.db", n))
		st := storetest.Open(b, path, true)
		svc := benchService(st)
		b.StartTimer()

		res, err := svc.RegisterLocation(ctx, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir})

		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Errors) > 0 || res.Added == 0 {
			b.Fatalf("ingest added %d entities with %d errors, first: %v", res.Added, len(res.Errors), res.Errors)
		}
		entities = res.Added
		_ = st.Close()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			_ = os.Remove(p)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(entities)*float64(b.N)/b.Elapsed().Seconds(), "entities/s")
}

// ingested returns a service over a SQLite database holding the generated catalog, and the
// generator's query inputs.
func ingested(b *testing.B) (*catalog.Service, *benchcat.Queries) {
	b.Helper()
	dir := benchcat.Generate(b, benchScale)
	q, err := benchcat.ReadQueries(dir)
	if err != nil {
		b.Fatal(err)
	}
	svc := benchService(storetest.SQLite(b))
	res, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir})
	if err != nil {
		b.Fatal(err)
	}
	if len(res.Errors) > 0 {
		b.Fatalf("ingest: %d errors, first: %v", len(res.Errors), res.Errors[0])
	}
	return svc, q
}

func BenchmarkEntityByRef(b *testing.B) {
	svc, q := ingested(b)
	ctx := operator
	refs := make([]backstage.Ref, len(q.Components))
	for i, s := range q.Components {
		refs[i] = backstage.MustParseRef(s)
		if _, err := svc.Entity(ctx, refs[i]); err != nil { // warms the cache
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e, err := svc.Entity(ctx, refs[i%len(refs)])
		if err != nil || len(e.Relations) == 0 {
			b.Fatalf("entity %s: %v", refs[i%len(refs)], err)
		}
		i++
	}
}

func BenchmarkFindByOwner(b *testing.B) {
	svc, q := ingested(b)
	ctx := operator
	filter := func(i int) catalog.Filter {
		return catalog.Filter{Owners: []string{q.Owners[i%len(q.Owners)]}, Kinds: []string{"Component"}}
	}
	for i := range q.Owners {
		page, err := svc.Find(ctx, catalog.Query{Filter: filter(i), First: 50})
		if err != nil {
			b.Fatal(err)
		}
		if len(page.Entities) == 0 {
			b.Fatalf("owner %s has no components", q.Owners[i])
		}
	}
	// page is one page of 50; page+count adds the totalCount the API's owner page also asks for.
	b.Run("page", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := svc.Find(ctx, catalog.Query{Filter: filter(i), First: 50}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("page+count", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			f := filter(i)
			if _, err := svc.Find(ctx, catalog.Query{Filter: f, First: 50}); err != nil {
				b.Fatal(err)
			}
			if _, err := svc.Count(ctx, f); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
