package catalog

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
)

// RegisterLocation adds a location and refreshes it at once, so the caller learns straight away
// whether it can be read and what is wrong in it. A location that cannot be read at all is not
// kept. Registering a location that exists already refreshes it (registration is idempotent).
//
// Only admins may register locations; the registration is audited.
func (s *Service) RegisterLocation(ctx context.Context, spec LocationSpec) (*RefreshResult, error) {
	var res *RefreshResult
	args := map[string]any{"type": string(spec.Type), "target": spec.Target}
	if spec.Ref != "" || spec.Path != "" {
		args["ref"], args["path"] = spec.Ref, spec.Path
	}
	err := s.audited(ctx, audit.Entry{Action: string(policy.LocationRegister), Args: args}, func(ctx context.Context) error {
		if err := policy.Can(principal.From(ctx), policy.LocationRegister, policy.Resource{Name: "catalog locations"}); err != nil {
			return err
		}
		var err error
		res, err = s.registerLocation(ctx, spec)
		return err
	})
	return res, err
}

func (s *Service) registerLocation(ctx context.Context, spec LocationSpec) (*RefreshResult, error) {
	spec, err := s.checkSpec(spec)
	if err != nil {
		return nil, err
	}
	if err := s.allowedThroughAPI(ctx, spec); err != nil {
		return nil, err
	}
	// Registering what is registered refreshes it. Another caller may unregister the location
	// between the lookup and the refresh (NOT_FOUND), or register it between the lookup and the
	// insert (CONFLICT): the lookup is then made again, a few times at most.
	var id int64
	for attempt := 1; ; attempt++ {
		existing, found, err := s.locationIDBySpec(ctx, spec)
		if err != nil {
			return nil, err
		}
		if found {
			res, err := s.refreshLocation(ctx, existing)
			if errs.Is(err, errs.NotFound) && attempt < registerAttempts {
				continue
			}
			return res, err
		}
		id, err = s.createLocation(ctx, spec, s.now().UTC())
		if errs.Is(err, errs.Conflict) && attempt < registerAttempts {
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	res, err := s.refreshLocation(ctx, id)
	if err == nil && res.Location.Status == StatusFailed {
		// Keep the cause's code: a server that does not answer may answer later (UNAVAILABLE); a
		// path or URL that names nothing will not (INVALID).
		code := errs.CodeOf(res.Failure)
		if code == errs.NotFound {
			code = errs.Invalid
		}
		err = &errs.Error{Code: code, Err: res.Failure,
			Message: fmt.Sprintf("location %s cannot be read: %s", describeSpec(spec), res.Location.Message)}
	}
	if err != nil {
		// Nothing was applied from it; take the registration back so no dead location stays.
		if delErr := s.deleteLocation(context.WithoutCancel(ctx), id); delErr != nil {
			s.log.ErrorContext(ctx, "catalog: remove unreadable location", "location", id, "error", delErr)
		}
		return nil, err
	}
	return res, nil
}

// registerAttempts bounds the lookups of a registration racing others of the same location.
const registerAttempts = 3

// checkSpec validates a spec and lets its reader normalise it.
func (s *Service) checkSpec(spec LocationSpec) (LocationSpec, error) {
	spec.Type = LocationType(strings.ToLower(strings.TrimSpace(string(spec.Type))))
	spec.Target = strings.TrimSpace(spec.Target)
	if spec.Target == "" {
		return spec, errs.InvalidField("target", "is empty")
	}
	r, ok := s.readers[spec.Type]
	if !ok {
		var known []string
		for _, t := range LocationTypes {
			if _, ok := s.readers[t]; ok {
				known = append(known, string(t))
			}
		}
		return spec, errs.InvalidField("type", "unknown location type %q; use one of %s", spec.Type, strings.Join(known, ", "))
	}
	if spec.Type != LocationGit && (spec.Ref != "" || spec.Path != "") {
		return spec, errs.InvalidField("ref", "ref and path apply only to git locations")
	}
	// After the reader's normalising, which may lengthen the target (a URL's escapes, a relative
	// path made absolute): what is stored must fit.
	spec, err := r.Check(spec)
	if err != nil {
		return spec, err
	}
	for _, b := range []struct {
		field, value string
		max          int
	}{{"target", spec.Target, maxTargetBytes}, {"ref", spec.Ref, maxGitRefBytes}, {"path", spec.Path, maxGitPathBytes}} {
		if len(b.value) > b.max {
			return spec, errs.InvalidField(b.field, "is %d bytes long; at most %d", len(b.value), b.max)
		}
	}
	return spec, nil
}

// The longest target, git ref and git path a location may have. A location is known by the
// four together (locations_identity), and a PostgreSQL B-tree entry holds at most 2,704 bytes:
// a longer target failed its registration with the database's error. 2,048 bytes is more than
// browsers and most servers accept in a URL.
const (
	maxTargetBytes  = 2048
	maxGitRefBytes  = 255
	maxGitPathBytes = 255
)

// allowedThroughAPI refuses, for API callers, location types that read the server's own disk
// unless the configuration allows them. The CLI (a system principal), run by an operator on the
// server, may register any.
func (s *Service) allowedThroughAPI(ctx context.Context, spec LocationSpec) error {
	if p := principal.From(ctx); p != nil && p.Kind == principal.KindSystem {
		return nil
	}
	t := spec.Type
	if t == LocationGit && len(spec.Target) >= 5 && strings.EqualFold(spec.Target[:5], "file:") { // schemes ignore case
		t = LocationFile // a repository on the server's disk
	}
	if slices.Contains(s.apiTypes, t) {
		return nil
	}
	return &errs.Error{Code: errs.Forbidden, Field: "type",
		Message: fmt.Sprintf("locations of type %s (%s) cannot be registered through the API on this server; "+
			"an operator can add %s to api-location-types, or register it with `portside catalog import`", t, spec.Target, t)}
}

func describeSpec(spec LocationSpec) string {
	d := string(spec.Type) + ":" + spec.Target
	if spec.Ref != "" {
		d += "@" + spec.Ref
	}
	if spec.Path != "" {
		d += " (" + spec.Path + ")"
	}
	return d
}

// Location returns one registered location.
func (s *Service) Location(ctx context.Context, id int64) (*Location, error) {
	row, err := s.locationRow(ctx, id, "location")
	if err != nil {
		return nil, err
	}
	l := row.toLocation()
	return &l, nil
}

// Locations lists every registered location, oldest first.
func (s *Service) Locations(ctx context.Context) ([]Location, error) {
	rows, err := s.locationRows(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Location, len(rows))
	for i := range rows {
		out[i] = rows[i].toLocation()
	}
	return out, nil
}

// FindLocation looks a location up by its numeric ID or by its target; a file location by its
// path as given too, relative to the working directory as when it was registered (its target is
// kept absolute: `catalog import cat` then `catalog refresh cat`).
func (s *Service) FindLocation(ctx context.Context, idOrTarget string) (*Location, error) {
	locs, err := s.Locations(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range locs { // an ID first: "3" is location 3, whatever file <cwd>/3 may be
		if idOrTarget == strconv.FormatInt(l.ID, 10) {
			return &l, nil
		}
	}
	abs, absErr := filepath.Abs(idOrTarget)
	var matches []Location
	for _, l := range locs {
		if idOrTarget == l.Target || (l.Type == LocationFile && absErr == nil && abs == l.Target) {
			matches = append(matches, l)
		}
	}
	switch len(matches) {
	case 0:
		return nil, errs.E(errs.NotFound, "no location has ID or target %q", idOrTarget)
	case 1:
		return &matches[0], nil
	}
	return nil, errs.E(errs.Conflict, "%d locations have target %q; name one by its ID", len(matches), idOrTarget)
}

// LocationErrors returns the first errors recorded by the last refresh of a location, in file
// order, at most first of them (1..MaxLocationErrorsPage). Location.ErrorCount counts them all;
// a refresh keeps at most Options.MaxLocationErrors.
func (s *Service) LocationErrors(ctx context.Context, id int64, first int) ([]backstage.ValidationError, error) {
	if first < 1 || first > MaxLocationErrorsPage {
		return nil, errs.InvalidField("first", "must be between 1 and %d, got %d", MaxLocationErrorsPage, first)
	}
	rows, err := s.locationErrorRows(ctx, id, first)
	if err != nil {
		return nil, err
	}
	out := make([]backstage.ValidationError, len(rows))
	for i := range rows {
		out[i] = rows[i].toError()
	}
	return out, nil
}

// MaxLocationErrorsPage bounds how many errors of a location one read returns.
const MaxLocationErrorsPage = 100_000

// UnregisterLocation removes a location and every entity it provided; relations other entities
// declare towards them stay, unresolved, as they would for any missing entity. It returns how many
// entities were removed.
//
// Only admins may unregister locations; it is audited.
func (s *Service) UnregisterLocation(ctx context.Context, id int64) (int, error) {
	var removed int64
	err := s.audited(ctx, audit.Entry{Action: string(policy.LocationUnregister), Resource: locationName(id)}, func(ctx context.Context) error {
		if err := policy.Can(principal.From(ctx), policy.LocationUnregister, policy.Resource{Name: locationName(id)}); err != nil {
			return err
		}
		return s.unregister(ctx, id, &removed)
	})
	if err != nil {
		return 0, err
	}
	s.log.InfoContext(ctx, "catalog: location unregistered", "location", id, "removed", removed)
	return int(removed), nil
}

func (s *Service) unregister(ctx context.Context, id int64, removed *int64) error {
	return s.st.InTx(ctx, func(ctx context.Context) error {
		// One writer of entities at a time, as for applies: the counts the database keeps of
		// them (entity_counts) are rows every writer updates, in no common order.
		if err := s.lockApplies(ctx); err != nil {
			return err
		}
		n, err := s.countEntitiesOf(ctx, id)
		if err != nil {
			return err
		}
		*removed = n
		// The entities go with the location row (ON DELETE CASCADE): one DELETE of entities, so
		// the trigger counts them once, grouping just the rows removed, with none of the versions
		// an apply's many statements would pile up (which is why an apply counts itself,
		// store_counts.go): unregistering the 168,501-entity bench location, the trigger took
		// 1.7 s of the 7.0 s delete.
		if err := s.deleteLocationRow(ctx, id); err != nil {
			return err
		}
		if *removed > 0 {
			// Entities this location held may have blocked the same refs in other locations: bring
			// the refreshes of locations with errors forward, so they take them over now.
			if err := s.refreshInvalidLocationsAt(ctx, s.now().UTC()); err != nil {
				return err
			}
			if err := s.bumpGeneration(ctx); err != nil {
				return err
			}
		}
		return audit.Flush(ctx)
	})
}
