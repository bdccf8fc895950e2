// Package catalog is Portside's service catalog: the locations entities come from, ingestion
// (read, parse and validate with package backstage, then apply in one transaction), reads,
// queries and ownership. Its rows and queries are in the store files (store.go, store_*.go); the
// entity model itself, with no database, is package catalog/backstage. It knows nothing of HTTP or
// GraphQL.
package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/bus"
	"github.com/portside-dev/portside/store"
)

// Observer hears about refreshes, for metrics. Package metrics implements it; nil is allowed.
type Observer interface {
	CatalogRefresh(locationType, outcome string, d time.Duration, added, updated, removed, invalid int)
}

// Options configure a Service. Zero values are sensible.
type Options struct {
	// Readers read each location type; a type without a reader cannot be registered.
	Readers map[LocationType]Reader
	// APILocationTypes are the types a signed-in caller (not the CLI) may register;
	// LocationFile also covers git repositories on the server's disk (file:// remotes).
	APILocationTypes []LocationType
	// RefreshInterval is how often Run refreshes each location; 0 disables scheduled refreshes.
	RefreshInterval time.Duration
	// CacheSize bounds the entities kept in the read cache; 0 disables the cache.
	CacheSize int
	// CacheCheck is how often the cache asks the database whether another process changed the
	// catalog (1s when 0). Changes made through this Service drop the cache at once.
	CacheCheck time.Duration
	// MaxLocationErrors bounds the errors kept per location (and returned by a refresh); the
	// others are counted only. DefaultMaxLocationErrors when 0.
	MaxLocationErrors int
	// Observer hears about refreshes; may be nil.
	Observer Observer
	// Logger for refresh outcomes; slog.Default() when nil.
	Logger *slog.Logger
	// Now is the clock, for tests; time.Now when nil.
	Now func() time.Time
	// Audit records every change made on a caller's behalf; nil records nothing (domain tests).
	Audit *audit.Log
	// Bus tells the other replicas when this one changed the catalog, and this one when they did,
	// so every replica's caches are retired at once (CacheCheck remains the fallback); nil is a
	// process alone.
	Bus bus.Bus
}

// Service is the catalog: locations in, entities out.
type Service struct {
	st        *store.Store
	readers   map[LocationType]Reader
	apiTypes  []LocationType
	interval  time.Duration
	obs       Observer
	log       *slog.Logger
	now       func() time.Time
	cache     *readCache
	cacheSize int
	audit     *audit.Log
	// maxErrors bounds the errors kept per location.
	maxErrors int
	// holder names this service in refresh leases, so replicas never refresh one location at once.
	holder string
	// beat is how often a refresh renews its lease (leaseBeat; shorter in tests).
	beat time.Duration
	bus  bus.Bus
	// gatherMax is the most matches a counted text search gathers for its page (matchesPage;
	// gatheredMatchesMax, lower in tests).
	gatherMax int
	// denseMin is how many matches a text search on SQLite must have for its page to walk the
	// order's index (denseText; denseTextMatches but in tests).
	denseMin int
	// summedRead is how many of each kind's first values summedFacets reads (0: summedReadFactor
	// per value asked, at least summedReadMin; fewer in tests).
	summedRead int
}

// NewService builds the catalog service on an open, migrated store.
func NewService(st *store.Store, opts Options) *Service {
	s := &Service{
		st:        st,
		readers:   opts.Readers,
		apiTypes:  opts.APILocationTypes,
		interval:  opts.RefreshInterval,
		obs:       opts.Observer,
		log:       opts.Logger,
		now:       opts.Now,
		holder:    holderID(),
		beat:      leaseBeat,
		audit:     opts.Audit,
		gatherMax: gatheredMatchesMax,
		denseMin:  denseTextMatches,

		maxErrors: opts.MaxLocationErrors,
	}
	if s.maxErrors <= 0 {
		s.maxErrors = DefaultMaxLocationErrors
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	check := opts.CacheCheck
	if check <= 0 {
		check = time.Second
	}
	s.cache = newReadCache(opts.CacheSize, check, s.generation)
	s.cacheSize = max(opts.CacheSize, 0)
	s.bus = bus.Or(opts.Bus)
	s.bus.Handle(changedTopic, func([]byte) { s.cache.expire() })
	s.bus.HandleGap(s.cache.expire)
	return s
}

// changedTopic tells the other replicas that the catalog changed.
const changedTopic = "catalog.changed"

// changed tells the other replicas to retire what they keep of the catalog, with the transaction
// that changes it (ctx's), and retires what this replica keeps once it commits.
func (s *Service) changed(ctx context.Context) {
	s.bus.Publish(ctx, changedTopic, nil)
	store.AfterCommit(ctx, s.cache.invalidate)
}

func holderID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Run refreshes locations as they fall due until ctx ends. It is a no-op when the refresh interval
// is 0. One location is refreshed at a time so background work never crowds out API traffic.
// First it builds the indexes a failed first import left deferred (buildLeftoverIndexes).
func (s *Service) Run(ctx context.Context) {
	if err := s.buildLeftoverIndexes(ctx); err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "catalog: build deferred indexes", "error", err)
	}
	if s.interval <= 0 {
		return
	}
	tick := min(s.interval/2, 30*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		if err := s.RefreshDue(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "catalog: scheduled refresh", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RefreshDue refreshes every location whose next refresh time has passed (or that has none).
func (s *Service) RefreshDue(ctx context.Context) error {
	ids, err := s.dueLocations(ctx, s.now().UTC(), 100)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err := s.refreshLocation(ctx, id); err != nil && !errs.Is(err, errs.Conflict) {
			s.log.WarnContext(ctx, "catalog: refresh failed", "location", id, "error", err)
		}
	}
	return nil
}
