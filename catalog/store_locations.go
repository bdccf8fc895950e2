package catalog

import (
	"context"
	"errors"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// This file holds the catalog's queries on locations, their recorded errors and their refresh
// leases (locations.go, ingest.go, lease.go).

// locationRow reads one location; what names it in a NOT_FOUND error.
func (s *Service) locationRow(ctx context.Context, id int64, what string) (*locationRow, error) {
	var row locationRow
	if err := s.st.DB(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return nil, store.Translate(err, what)
	}
	return &row, nil
}

// locationRows reads every location, oldest first.
func (s *Service) locationRows(ctx context.Context) ([]locationRow, error) {
	var rows []locationRow
	if err := s.st.DB(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "locations")
	}
	return rows, nil
}

// locationIDBySpec finds the location registered with exactly this spec.
func (s *Service) locationIDBySpec(ctx context.Context, spec LocationSpec) (id int64, found bool, err error) {
	var row locationRow
	err = s.st.DB(ctx).Where("type = ? AND target = ? AND git_ref = ? AND git_path = ?",
		spec.Type, spec.Target, spec.Ref, spec.Path).Take(&row).Error
	switch {
	case err == nil:
		return row.ID, true, nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return 0, false, nil
	}
	return 0, false, store.Translate(err, "location")
}

// createLocation registers a location, pending its first refresh.
func (s *Service) createLocation(ctx context.Context, spec LocationSpec, now time.Time) (int64, error) {
	row := locationRow{
		Type: string(spec.Type), Target: spec.Target, GitRef: spec.Ref, GitPath: spec.Path,
		Status: string(StatusPending), CreatedAt: now, UpdatedAt: now,
	}
	if err := s.st.DB(ctx).Create(&row).Error; err != nil {
		return 0, store.Translate(err, "location "+spec.Target)
	}
	return row.ID, nil
}

// deleteLocation removes a location row whatever it holds (its entities and errors go with it).
func (s *Service) deleteLocation(ctx context.Context, id int64) error {
	return s.st.DB(ctx).Delete(&locationRow{}, id).Error
}

// deleteLocationRow removes a location row, or says it does not exist.
func (s *Service) deleteLocationRow(ctx context.Context, id int64) error {
	res := s.st.DB(ctx).Delete(&locationRow{}, id)
	if res.Error != nil {
		return store.Translate(res.Error, "location")
	}
	if res.RowsAffected == 0 {
		return errs.E(errs.NotFound, "location %d not found", id)
	}
	return nil
}

// updateLocation sets columns of a location row.
func (s *Service) updateLocation(ctx context.Context, id int64, columns map[string]any) error {
	err := s.st.DB(ctx).Model(&locationRow{}).Where("id = ?", id).Updates(columns).Error
	return store.Translate(err, "location")
}

// dueLocations returns at most limit locations whose next refresh is at or before now, or that
// have none, soonest first.
func (s *Service) dueLocations(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := s.st.DB(ctx).Model(&locationRow{}).
		// NULL: registered while scheduled refreshes were off, or never refreshed at all.
		Where("next_refresh_at IS NULL OR next_refresh_at <= ?", now).
		Order("next_refresh_at").Limit(limit).Pluck("id", &ids).Error
	if err != nil {
		return nil, store.Translate(err, "due locations")
	}
	return ids, nil
}

// refreshInvalidLocationsAt brings the next refresh of every location with errors forward to t.
func (s *Service) refreshInvalidLocationsAt(ctx context.Context, t time.Time) error {
	err := s.st.DB(ctx).Model(&locationRow{}).Where("error_count > 0").Update("next_refresh_at", t).Error
	return store.Translate(err, "locations")
}

// countEntitiesOf counts the entities a location provides.
func (s *Service) countEntitiesOf(ctx context.Context, locationID int64) (int64, error) {
	var n int64
	if err := s.st.DB(ctx).Model(&entityRow{}).Where("location_id = ?", locationID).Count(&n).Error; err != nil {
		return 0, store.Translate(err, "entities")
	}
	return n, nil
}

// locationErrorRows reads the first errors recorded for a location, in the order they were written.
func (s *Service) locationErrorRows(ctx context.Context, id int64, first int) ([]locationErrorRow, error) {
	var rows []locationErrorRow
	if err := s.st.DB(ctx).Where("location_id = ?", id).Order("id").Limit(first).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "location errors")
	}
	return rows, nil
}

// replaceLocationErrors replaces the errors recorded for a location by list.
func (s *Service) replaceLocationErrors(ctx context.Context, locationID int64, list []backstage.ValidationError) error {
	db := s.st.DB(ctx)
	if err := db.Where("location_id = ?", locationID).Delete(&locationErrorRow{}).Error; err != nil {
		return store.Translate(err, "location errors")
	}
	if len(list) == 0 {
		return nil
	}
	rows := make([]locationErrorRow, len(list))
	for i, e := range list {
		rows[i] = locationErrorRow{LocationID: locationID, Source: e.Source, Document: e.Document, Line: e.Line,
			Field: e.Field, EntityRef: e.Ref, Message: e.Message}
	}
	return store.Translate(db.CreateInBatches(rows, s.st.BatchSize(8)).Error, "location errors")
}

// claimLease gives the location's lease to holder until the given time, if no lease is current at
// now; it reports whether it did.
func (s *Service) claimLease(ctx context.Context, id int64, holder string, until, now time.Time) (bool, error) {
	res := s.st.DB(ctx).Model(&locationRow{}).
		Where("id = ? AND (lease_until IS NULL OR lease_until < ?)", id, now).
		Updates(map[string]any{"lease_owner": holder, "lease_until": until})
	if res.Error != nil {
		return false, store.Translate(res.Error, "location lease")
	}
	return res.RowsAffected == 1, nil
}

// leaseOwner reads who holds the location's lease ("" for nobody).
func (s *Service) leaseOwner(ctx context.Context, id int64) (string, error) {
	var cur locationRow
	if err := s.st.DB(ctx).Select("id, lease_owner, lease_until").Take(&cur, "id = ?", id).Error; err != nil {
		return "", store.Translate(err, "location "+strconv.FormatInt(id, 10))
	}
	return cur.LeaseOwner, nil
}

// takeOverLease gives the location's lease to holder if owner still holds it (compare and swap);
// it reports whether it did.
func (s *Service) takeOverLease(ctx context.Context, id int64, owner, holder string, until time.Time) (bool, error) {
	res := s.st.DB(ctx).Model(&locationRow{}).Where("id = ? AND lease_owner = ?", id, owner).
		Updates(map[string]any{"lease_owner": holder, "lease_until": until})
	if res.Error != nil {
		return false, store.Translate(res.Error, "location lease")
	}
	return res.RowsAffected == 1, nil
}

// errLeaseBusy says a lease was not renewed because a transaction holds the location's row, or
// its table, against the renewal.
var errLeaseBusy = errs.E(errs.Unavailable, "the location is being written")

// renewWait bounds how long a renewal on PostgreSQL waits for a lock (lock_timeout).
const renewWait = "50ms"

// renewLease extends holder's lease to until; it reports whether holder still held it. The
// database's error is returned as it is, for the log.
//
// On PostgreSQL it waits at most renewWait for any lock: an apply's transaction that updated the
// location's row (or, rebuilding a first import's foreign keys, locked the table) holds it until
// it commits, and a renewal waiting behind it keeps a snapshot from before that commit as long as
// it waits. The VACUUM that follows an import then cannot mark the pages the import wrote visible
// to all, and every index-only read of them reads the heap instead: after a million-entity
// import whose heartbeat waited so, a text search walked entities_name fetching each row (2.0 s
// for `support`) and the facets of a tag and a type scanned the table (1.6 s). A lock not had in
// time is errLeaseBusy: the next beat tries again. The rows an apply inserts only share-lock the
// location's key, which the renewal (no key update) does not wait for.
func (s *Service) renewLease(ctx context.Context, id int64, holder string, until time.Time) (bool, error) {
	var held bool
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		db := s.st.DB(ctx)
		if s.st.Dialect() == store.Postgres {
			if err := db.Exec("SET LOCAL lock_timeout = '" + renewWait + "'").Error; err != nil {
				return err
			}
		}
		res := db.Model(&locationRow{}).Where("id = ? AND lease_owner = ?", id, holder).Update("lease_until", until)
		held = res.RowsAffected > 0
		return res.Error
	})
	if err != nil && store.IsLockNotAvailable(err) {
		return true, errLeaseBusy
	}
	return err == nil && held, err
}

// releaseLease ends holder's lease, if it still holds it.
func (s *Service) releaseLease(ctx context.Context, id int64, holder string) error {
	return s.st.DB(ctx).Model(&locationRow{}).Where("id = ? AND lease_owner = ?", id, holder).
		Updates(map[string]any{"lease_owner": "", "lease_until": nil}).Error
}
