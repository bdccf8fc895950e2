package catalog

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
)

// RefreshResult tells what a refresh did.
type RefreshResult struct {
	Location Location
	// Unchanged is true when the location was read and found as it was, so nothing was rewritten.
	Unchanged bool
	Added     int
	Updated   int
	Removed   int
	// Errors are the first problems found (at most Options.MaxLocationErrors); ErrorCount counts all.
	Errors     []backstage.ValidationError
	ErrorCount int
	// Failure is why the location could not be read or applied, when Location.Status is failed.
	Failure error
}

// Refresh reads a location and applies what it holds: new and changed entities are written, those
// that disappeared are removed, an entity whose new document is invalid keeps its last good version,
// and every problem is recorded on the location. Everything is applied in one transaction, so a
// failure or a crash leaves the previous state whole. Unchanged content rewrites nothing.
//
// Owners of any entity the location provides, and admins, may refresh it; the refresh is audited.
func (s *Service) Refresh(ctx context.Context, id int64) (*RefreshResult, error) {
	var res *RefreshResult
	err := s.audited(ctx, audit.Entry{Action: string(policy.LocationRefresh), Resource: locationName(id)}, func(ctx context.Context) error {
		p := principal.From(ctx)
		owns := false
		if p != nil && !p.Admin {
			var err error
			if owns, err = s.ownsAnyFrom(ctx, p, id); err != nil {
				return err
			}
		}
		if err := policy.Can(p, policy.LocationRefresh, policy.Resource{Name: locationName(id), OwnedByCaller: owns}); err != nil {
			return err
		}
		var err error
		res, err = s.refreshLocation(ctx, id)
		return err
	})
	return res, err
}

// CanRefresh reports whether the caller may refresh location id, as Refresh decides it: admins,
// and the owners of any entity the location provides, with a credential that may change things.
// It is for offering the action only; Refresh checks again.
func (s *Service) CanRefresh(ctx context.Context, id int64) (bool, error) {
	p := principal.From(ctx)
	if policy.Gate(p, policy.LocationRefresh) != nil {
		return false, nil
	}
	owns := false
	if !p.Admin {
		var err error
		if owns, err = s.ownsAnyFrom(ctx, p, id); err != nil {
			return false, err
		}
	}
	return policy.Can(p, policy.LocationRefresh, policy.Resource{Name: locationName(id), OwnedByCaller: owns}) == nil, nil
}

// locationName names a location in audit records.
func locationName(id int64) string { return "location " + strconv.FormatInt(id, 10) }

// refreshLocation is Refresh without the caller's checks, for registration and scheduled refreshes.
func (s *Service) refreshLocation(ctx context.Context, id int64) (*RefreshResult, error) {
	start := time.Now()
	row, err := s.locationRow(ctx, id, fmt.Sprintf("location %d", id))
	if err != nil {
		return nil, err
	}
	lease, err := s.lease(ctx, row)
	if err != nil {
		return nil, err
	}
	defer s.unlease(context.WithoutCancel(ctx), row.ID, lease)
	stop := s.heartbeat(ctx, row.ID, lease)
	defer stop()

	loc := row.toLocation()
	reader, ok := s.readers[loc.Type]
	if !ok {
		return nil, errs.E(errs.Unavailable, "location %d: no reader for type %q in this process", id, loc.Type)
	}
	res, outcome, err := s.refresh(ctx, row, reader)
	if err != nil {
		s.observe(loc.Type, "failed", start, nil)
		return nil, err
	}
	s.observe(loc.Type, outcome, start, res)
	s.log.InfoContext(ctx, "catalog: location refreshed", "location", id, "target", loc.Target,
		"outcome", outcome, "added", res.Added, "updated", res.Updated, "removed", res.Removed,
		"errors", res.ErrorCount, "duration_ms", time.Since(start).Milliseconds())
	return res, nil
}

func (s *Service) observe(t LocationType, outcome string, start time.Time, res *RefreshResult) {
	if s.obs == nil {
		return
	}
	if res == nil {
		res = &RefreshResult{}
	}
	s.obs.CatalogRefresh(string(t), outcome, time.Since(start), res.Added, res.Updated, res.Removed, res.ErrorCount)
}

func (s *Service) refresh(ctx context.Context, row *locationRow, reader Reader) (*RefreshResult, string, error) {
	spec := LocationSpec{Type: LocationType(row.Type), Target: row.Target, Ref: row.GitRef, Path: row.GitPath}
	since := row.Revision
	if row.ErrorCount > 0 {
		since = "" // re-read: errors may come from elsewhere (a clash with another location)
	}
	snap, err := reader.Open(ctx, spec, since)
	if err != nil {
		if errs.Is(err, errs.Internal) {
			return nil, "", err
		}
		res, err := s.recordFailure(ctx, row, err)
		return res, "failed", err
	}
	defer snap.Close()
	settled := row.ErrorCount == 0 && row.Status == string(StatusOK)
	unchanged := false
	switch {
	case snap.Unchanged() && (snap.Sealed() || s.manifestHolds(ctx, row.Manifest, snap, true)):
		unchanged = true
	case snap.Unchanged():
		// The selected files are as they were, but something they read is not: read it all again.
		_ = snap.Close()
		if snap, err = reader.Open(ctx, spec, ""); err != nil {
			res, err := s.recordFailure(ctx, row, err)
			return res, "failed", err
		}
		defer snap.Close()
	case settled && row.Manifest != "" && s.manifestHolds(ctx, row.Manifest, snap, false):
		unchanged = true
	}
	if unchanged {
		res, err := s.recordUnchanged(ctx, row, snap.Revision())
		return res, "unchanged", err
	}
	res, err := s.apply(ctx, row, snap)
	var unread *collectError
	switch {
	case errors.As(err, &unread):
		res, err := s.recordFailure(ctx, row, unread.err)
		return res, "failed", err
	case err != nil:
		// Nothing was applied; say so on the location, where people look, before returning.
		cause := &errs.Error{Code: errs.CodeOf(err), Err: err, Message: "the refresh could not be applied: " + errs.PublicMessage(err)}
		if _, recErr := s.recordFailure(context.WithoutCancel(ctx), row, cause); recErr != nil {
			s.log.ErrorContext(ctx, "catalog: record failed refresh", "location", row.ID, "error", recErr)
		}
		return nil, "", err
	}
	return res, "applied", nil
}

// manifestHolds reports whether the inputs of the last apply are all as they were then (with
// beyondFiles, those beyond the location's selected files).
func (s *Service) manifestHolds(ctx context.Context, stored string, snap Snapshot, beyondFiles bool) bool {
	if stored == "" {
		return beyondFiles // nothing recorded beyond the files: nothing else to check
	}
	var m manifest
	return json.Unmarshal([]byte(stored), &m) == nil && m.unchanged(ctx, snap, beyondFiles)
}

func (s *Service) nextRefresh(now time.Time) *time.Time {
	if s.interval <= 0 {
		return nil
	}
	t := now.Add(s.interval)
	return &t
}

// recordFailure notes that the location could not be read; its entities stay as they were.
func (s *Service) recordFailure(ctx context.Context, row *locationRow, cause error) (*RefreshResult, error) {
	now := s.now().UTC()
	msg := errs.PublicMessage(cause)
	if errs.CodeOf(cause) == errs.Internal {
		s.log.ErrorContext(ctx, "catalog: refresh location", "location", row.ID, "error", cause)
		msg = "internal error; the server log has the details"
	}
	row.Status, row.Message, row.RefreshedAt, row.NextRefreshAt = string(StatusFailed), msg, &now, s.nextRefresh(now)
	err := s.updateLocation(ctx, row.ID, map[string]any{
		"status": row.Status, "message": msg, "refreshed_at": now, "next_refresh_at": row.NextRefreshAt, "updated_at": now,
	})
	if err != nil {
		return nil, err
	}
	return &RefreshResult{Location: row.toLocation(), Failure: cause}, nil
}

// recordUnchanged notes the check time only.
func (s *Service) recordUnchanged(ctx context.Context, row *locationRow, revision string) (*RefreshResult, error) {
	now := s.now().UTC()
	row.RefreshedAt, row.SucceededAt, row.NextRefreshAt, row.Message = &now, &now, s.nextRefresh(now), ""
	if revision != "" {
		row.Revision = revision
	}
	if row.Status == string(StatusFailed) {
		row.Status = string(StatusOK)
		if row.ErrorCount > 0 {
			row.Status = string(StatusInvalid)
		}
	}
	err := s.updateLocation(ctx, row.ID, map[string]any{
		"status": row.Status, "message": "", "revision": row.Revision, "refreshed_at": now,
		"succeeded_at": now, "next_refresh_at": row.NextRefreshAt,
	})
	if err != nil {
		return nil, err
	}
	list, err := s.LocationErrors(ctx, row.ID, s.maxErrors)
	if err != nil {
		return nil, err
	}
	return &RefreshResult{Location: row.toLocation(), Unchanged: true, Errors: list, ErrorCount: row.ErrorCount}, nil
}

// collectError is why a location could not be collected (read as a whole): a failure of the
// location, recorded as such, not of the apply.
type collectError struct{ err error }

func (e *collectError) Error() string { return e.err.Error() }
func (e *collectError) Unwrap() error { return e.err }

// applyBatch is how many collected entities apply writes at a time when they were collected
// before the transaction (SQLite, a location whose reads may leave the machine).
const applyBatch = 2000

// apply collects the snapshot and writes what it holds in one transaction. Where it can, the
// entities are written as they are parsed, inside the transaction, the documents of a large file
// a few hundred at a time (collectStream with midFile): a location of a million entities is never
// in memory whole, and parsing overlaps the database's work (on 2 cores, the parse of a 15 MB file
// ran beside the writes of its first documents instead of before them). Readers see the previous
// catalog until the commit. Should a file fail part-way after some of its documents were written,
// the transaction is rolled back and the location applied again, each file read whole before any
// of it is written, so that such a file yields nothing, as it always did.
//
// The first apply into an empty catalog builds the secondary indexes after it has loaded the rows
// (deferIndexes); should it fail, they are built again at once over what its rollback left.
func (s *Service) apply(ctx context.Context, row *locationRow, snap Snapshot) (*RefreshResult, error) {
	deferred := s.deferIndexes(ctx)
	res, err := s.applyOnce(ctx, row, snap, true)
	var partial *partialFileError
	if errors.As(err, &partial) {
		s.log.InfoContext(ctx, "catalog: a file failed part-way through the apply; applying the location again with whole files",
			"location", row.ID, "file", partial.name, "error", partial.err)
		res, err = s.applyOnce(ctx, row, snap, false)
	}
	if err != nil && deferred {
		if buildErr := s.buildDeferredIndexes(context.WithoutCancel(ctx)); buildErr != nil {
			s.log.ErrorContext(ctx, "catalog: build the deferred indexes after a failed apply; the next apply, `portside serve` or `portside migrate up` builds them",
				"error", buildErr)
		}
	}
	return res, err
}

// applyOnce is apply, with midFile saying whether a large file's documents may be written before
// the file has been read to its end.
func (s *Service) applyOnce(ctx context.Context, row *locationRow, snap Snapshot, midFile bool) (*RefreshResult, error) {
	type source = func(ctx context.Context, emit func([]*backstage.Entity, []string) error) (*Collected, error)
	var collect source
	if s.writesWhileParsing(snap) {
		workers := s.parseWorkers()
		collect = func(ctx context.Context, emit func([]*backstage.Entity, []string) error) (*Collected, error) {
			c, err := collectStream(ctx, snap, s.maxErrors, midFile, workers, emit)
			if err != nil && !errors.As(err, new(*applyError)) && !errors.As(err, new(*partialFileError)) {
				err = &collectError{err}
			}
			return c, err
		}
	} else {
		c, err := CollectWith(ctx, snap, s.maxErrors)
		if err != nil {
			return nil, &collectError{err}
		}
		collect = func(ctx context.Context, emit func([]*backstage.Entity, []string) error) (*Collected, error) {
			for start := 0; start < len(c.Entities); start += applyBatch {
				end := min(start+applyBatch, len(c.Entities))
				bodies := slices.Clone(c.bodies[start:end])
				clear(c.bodies[start:end]) // the batch holds them from now on, until its rows are written
				if err := emit(c.Entities[start:end], bodies); err != nil {
					return nil, err
				}
			}
			c.Entities, c.bodies = nil, nil
			return c, nil
		}
	}
	res := &RefreshResult{}
	now := s.now().UTC()
	var total int
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		if err := s.lockApplies(ctx); err != nil {
			return err
		}
		// Before anything is written: the indexes and keys a first import deferred are this
		// apply's to build, and nobody else's while it writes (store.ClaimDeferredIndexes).
		if err := s.st.ClaimDeferredIndexes(ctx); err != nil {
			return err
		}
		restore, err := s.widenCache(ctx)
		if err != nil {
			return err
		}
		defer restore()
		existing, err := s.storedEntities(ctx, row.ID)
		if err != nil {
			return err
		}
		have := make(map[string]*existingEntity, len(existing))
		for i := range existing {
			have[existing[i].Ref] = &existing[i]
		}
		// The kept counts follow the entities written: on PostgreSQL the apply counts them itself
		// and adds the differences once at its end (store_counts.go).
		counts := s.keepCounts()
		defer counts.stop()
		// Entities another location provides already are refused here; their errors join the
		// collection's at the end, within the same bound. When no other location holds any, none
		// can come before the commit (every apply holds the apply lock), so there is nothing to
		// look up batch by batch: a first import of a million entities made 5,008 such queries,
		// 5 s of the database's time while it was copying the rows.
		others, err := s.otherLocationsHoldEntities(ctx, row.ID)
		if err != nil {
			return err
		}
		var clashErrors []backstage.ValidationError
		clashCount := 0
		write := func(entities []*backstage.Entity, bodies []string) error {
			var clashes map[string]string
			if others {
				var err error
				if clashes, err = s.clashes(ctx, row.ID, entities, have); err != nil {
					return &applyError{err}
				}
			}
			var insert []pendingEntity
			var changed []int64
			for i, e := range entities {
				ref := e.Ref.String()
				if other, clash := clashes[ref]; clash {
					if clashCount++; len(clashErrors) < s.maxErrors {
						clashErrors = append(clashErrors, backstage.ValidationError{Source: e.Source, Document: e.Document, Line: e.Line, Ref: ref,
							Message: fmt.Sprintf("entity %s is provided by another location already (%s); it was not taken from this one", ref, other)})
					}
					continue
				}
				old, ok := have[ref]
				if ok {
					old.wanted = true
				}
				switch {
				case !ok:
					e.CreatedAt = now
					insert = append(insert, pendingEntity{e, bodies[i]})
					res.Added++
				case old.Hash != e.Hash:
					// Changed: rewrite the row and everything hanging off it, keeping its creation time.
					e.CreatedAt = old.CreatedAt
					insert = append(insert, pendingEntity{e, bodies[i]})
					changed = append(changed, old.ID)
					res.Updated++
				}
				bodies[i] = "" // insert holds it from now on, until its row is written
			}
			if err := s.deleteEntities(ctx, changed, counts); err != nil {
				return &applyError{err}
			}
			if err := s.insertEntities(ctx, row.ID, insert, now, counts); err != nil {
				return &applyError{err}
			}
			return nil
		}
		c, err := collect(ctx, write)
		if err != nil {
			var failed *applyError
			if errors.As(err, &failed) {
				return failed.err
			}
			return err
		}
		var remove []int64
		for ref, old := range have {
			if !old.wanted && !c.keepRefs[ref] && !c.keepSources[old.Source] && (!c.incomplete || c.read[old.Source]) {
				remove = append(remove, old.ID)
				res.Removed++
			}
		}
		if err := s.deleteEntities(ctx, remove, counts); err != nil {
			return err
		}
		counts.written() // counted and sorted while the indexes are built
		if err := s.buildDeferredIndexes(ctx); err != nil {
			return err
		}
		if err := counts.finish(ctx); err != nil {
			return err
		}
		list := c.Errors
		if room := s.maxErrors - len(list); room > 0 {
			list = append(list, clashErrors[:min(room, len(clashErrors))]...)
		}
		errorCount := c.ErrorCount + clashCount
		sortErrors(list)
		res.Errors, res.ErrorCount = list, errorCount
		if err := s.writeErrors(ctx, row, list); err != nil {
			return err
		}
		status := StatusOK
		if errorCount > 0 {
			status = StatusInvalid
		}
		revision := snap.Revision()
		if revision == "" {
			revision = c.manifest.hash()
		}
		manifest, _ := json.Marshal(c.manifest)
		row.Status, row.Message, row.Revision = string(status), "", revision
		row.EntityCount = len(existing) + res.Added - res.Removed
		row.ErrorCount = errorCount
		row.RefreshedAt, row.SucceededAt, row.NextRefreshAt, row.UpdatedAt = &now, &now, s.nextRefresh(now), now
		err = s.updateLocation(ctx, row.ID, map[string]any{
			"status": row.Status, "message": "", "revision": revision, "manifest": string(manifest),
			"errors_hash": row.ErrorsHash, "entity_count": row.EntityCount, "error_count": row.ErrorCount,
			"refreshed_at": now, "succeeded_at": now, "next_refresh_at": row.NextRefreshAt, "updated_at": now,
			// A heartbeat in the transaction: a long apply may hold the writer lock past beats.
			"lease_until": now.Add(leaseFor),
		})
		if err != nil {
			return err
		}
		total = row.EntityCount
		if res.Added+res.Updated+res.Removed > 0 {
			if err := s.bumpGeneration(ctx); err != nil {
				return err
			}
		}
		return audit.Flush(ctx)
	})
	if err != nil {
		return nil, err
	}
	if res.Added+res.Updated+res.Removed > 0 {
		s.afterBulkChange(ctx, res.Added+res.Updated+res.Removed, total)
	}
	res.Location = row.toLocation()
	return res, nil
}

// applyError is a failure to write a batch, carried through the collection that emitted it so it
// is not taken for a failure to read the location.
type applyError struct{ err error }

func (e *applyError) Error() string { return e.err.Error() }
func (e *applyError) Unwrap() error { return e.err }

// writeErrors replaces the location's recorded errors, unless they are the same as before.
func (s *Service) writeErrors(ctx context.Context, row *locationRow, list []backstage.ValidationError) error {
	b, _ := json.Marshal(list)
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	if h == row.ErrorsHash {
		return nil
	}
	row.ErrorsHash = h
	return s.replaceLocationErrors(ctx, row.ID, list)
}

func sortErrors(list []backstage.ValidationError) {
	slices.SortStableFunc(list, func(a, b backstage.ValidationError) int {
		return cmp.Or(strings.Compare(a.Source, b.Source), cmp.Compare(a.Document, b.Document), cmp.Compare(a.Line, b.Line))
	})
}
