package catalog

import (
	"context"
	"time"
)

// Planner statistics. Both databases choose their plans from statistics that only ANALYZE
// gathers: SQLite has none until it runs, and PostgreSQL's autovacuum, which would gather them in
// the background, may be off (it is on the machines Portside is measured on). Without them, after
// a bulk import, SQLite reads a text search restricted by kind through the kind index in name
// order (every component, to find the few that match) and PostgreSQL hashes the whole entities
// table to find a page's relations. So a refresh that changed a large share of the catalog
// gathers them itself, once, after its transaction: tens of milliseconds at 17,000 entities.

// Statistics are gathered after a refresh that changed at least bulkChangeMin entities and at
// least 1/bulkChangeShare of the location's entities (the rule autovacuum applies to a table:
// a threshold plus a tenth).
const (
	bulkChangeMin   = 100
	bulkChangeShare = 10
)

// analyzedTables are the tables catalog reads plan over.
var analyzedTables = []string{"entities", "relations", "entity_tags", "entity_annotations"}

// afterBulkChange gathers planner statistics when a refresh changed enough of the catalog. A
// failure is logged, not returned: the refresh itself succeeded.
func (s *Service) afterBulkChange(ctx context.Context, changed, total int) {
	if changed < bulkChangeMin || changed*bulkChangeShare < total {
		return
	}
	start := time.Now()
	if err := s.Analyze(ctx); err != nil {
		s.log.WarnContext(ctx, "catalog: gather planner statistics", "error", err)
		return
	}
	s.log.DebugContext(ctx, "catalog: planner statistics gathered", "changed", changed, "duration_ms", time.Since(start).Milliseconds())
}
