package catalog

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// chunk bounds the refs per IN (...) list, well under both databases' parameter limits.
const chunk = 500

// Entity returns one entity with its relations, or a NOT_FOUND error.
func (s *Service) Entity(ctx context.Context, ref Ref) (*Entity, error) {
	got, err := s.EntitiesByRef(ctx, []Ref{ref})
	if err != nil {
		return nil, err
	}
	e, ok := got[ref]
	if !ok {
		return nil, errs.E(errs.NotFound, "entity %s not found", ref)
	}
	return e, nil
}

// EntitiesByRef returns the entities that exist among refs, with their relations, keyed by ref.
// Missing refs are simply absent. The returned entities are shared: callers must not modify them.
func (s *Service) EntitiesByRef(ctx context.Context, refs []Ref) (map[Ref]*Entity, error) {
	out := make(map[Ref]*Entity, len(refs))
	epoch := s.cache.syncIfCaching(ctx)
	var missing []string
	for _, r := range refs {
		if _, done := out[r]; done || r.IsZero() {
			continue
		}
		if e, ok := s.cache.entity(r); ok {
			out[r] = e
		} else {
			missing = append(missing, r.String())
		}
	}
	slices.Sort(missing)
	missing = slices.Compact(missing)
	for part := range slices.Chunk(missing, chunk) {
		loaded, err := s.loadEntities(ctx, part)
		if err != nil {
			return nil, err
		}
		s.cache.addEntities(epoch, loaded)
		for _, e := range loaded {
			out[e.Ref] = e
		}
	}
	return out, nil
}

// loadEntities reads entities with every relation that starts at them: those they declare and
// the inverse of those that name them (a group's ownerOf from its components' ownedBy). Two
// queries, whatever the number of refs. The relations are one scan of the relations table through
// both of its indexes (entity_id OR target_ref), each row's declaring entity looked up by primary
// key. The join of both directions it replaces (a UNION ALL of two joins with entities) let
// PostgreSQL, without statistics after a bulk import, hash the whole entities table (15 ms a page
// each way) and, with statistics, start parallel workers for the UNION ALL (20-60 ms on a busy
// machine) to read a few hundred rows.
func (s *Service) loadEntities(ctx context.Context, refs []string) ([]*Entity, error) {
	var rows []entityRow
	// Every column but search_text, which only text search reads (in SQL) and which is as large as
	// the rest of the row.
	if err := s.st.DB(ctx).Select(entityReadColumns).Where("ref IN ?", refs).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "entities")
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(rows))
	found := make([]string, len(rows))
	loaded := make(map[string]bool, len(rows))
	refOf := make(map[int64]string, len(rows))
	for i := range rows {
		ids[i], found[i] = rows[i].ID, rows[i].Ref
		refOf[rows[i].ID], loaded[rows[i].Ref] = rows[i].Ref, true
	}
	// The rows are scanned by hand: a page's few hundred relations through gorm's reflective Scan
	// cost as much CPU as the query itself.
	relRows, err := s.st.DB(ctx).Raw(`SELECT r.entity_id, r.type, r.target_ref,
		(SELECT e.ref FROM entities e WHERE e.id = r.entity_id) AS source_ref
		FROM relations r WHERE r.entity_id IN ? OR r.target_ref IN ?`, ids, found).Rows()
	if err != nil {
		return nil, store.Translate(err, "relations")
	}
	defer relRows.Close()
	type relRow struct {
		EntityID                   int64
		Type, TargetRef, SourceRef string
	}
	var rels []relRow
	for relRows.Next() {
		var r relRow
		var source sql.NullString // NULL only were the declaring entity missing
		if err := relRows.Scan(&r.EntityID, &r.Type, &r.TargetRef, &source); err != nil {
			return nil, store.Translate(err, "relations")
		}
		r.SourceRef = source.String
		rels = append(rels, r)
	}
	if err := relRows.Err(); err != nil {
		return nil, store.Translate(err, "relations")
	}
	bySource := make(map[string][]Relation, len(rows))
	for _, r := range rels {
		// A relation between two loaded entities counts for both: declared by one, named by the other.
		if from, ok := refOf[r.EntityID]; ok {
			bySource[from] = append(bySource[from], Relation{Type: r.Type, Target: refOrZero(r.TargetRef)})
		}
		if loaded[r.TargetRef] {
			if typ := Inverse(r.Type); typ != "" {
				bySource[r.TargetRef] = append(bySource[r.TargetRef], Relation{Type: typ, Target: refOrZero(r.SourceRef)})
			}
		}
	}
	out := make([]*Entity, 0, len(rows))
	for i := range rows {
		e, err := rows[i].toEntity()
		if err != nil {
			return nil, errs.Wrap(errs.Internal, err, "catalog: decode stored entity %s", rows[i].Ref)
		}
		e.Relations = sortRelations(bySource[rows[i].Ref])
		out = append(out, e)
	}
	return out, nil
}

// ParseRefInput reads a reference typed by a person or a client, naming the input in errors.
func ParseRefInput(field, s, defaultKind string) (Ref, error) {
	r, err := ParseRef(s, defaultKind, DefaultNamespace)
	if err != nil {
		return Ref{}, errs.InvalidField(field, "%s", strings.TrimPrefix(errs.PublicMessage(err), "entity reference "))
	}
	return r, nil
}

// EntityByInput looks up an entity by a reference typed by a client, with kind filling in a
// reference that names none. It returns nil, nil when there is no such entity.
func (s *Service) EntityByInput(ctx context.Context, ref, kind string) (*Entity, error) {
	r, err := ParseRefInput("ref", ref, kind)
	if err != nil {
		return nil, err
	}
	got, err := s.EntitiesByRef(ctx, []Ref{r})
	if err != nil {
		return nil, err
	}
	return got[r], nil
}

// ComponentAnnotations looks up a component by a reference a client typed (the kind defaults to
// component) and returns its canonical ref and its annotations; field names the input in errors.
// It is how other domains (rollouts) read what ties a component to their world.
func (s *Service) ComponentAnnotations(ctx context.Context, field, ref string) (string, map[string]string, error) {
	r, err := ParseRefInput(field, ref, "component")
	if err != nil {
		return "", nil, err
	}
	if r.Kind != "component" {
		return "", nil, errs.InvalidField(field, "%s is not a component", r)
	}
	e, err := s.Entity(ctx, r)
	if err != nil {
		return "", nil, err
	}
	return r.String(), e.Metadata.Annotations, nil
}

// MaxScopeComponents bounds how many components ComponentsIn reads for one scope.
const MaxScopeComponents = 5000

// ComponentsIn returns the annotations of the components in a scope that carry at least one of
// keys: a system's components (ref system:...) or those owned by a group or any group below it
// (ref group:...). field names the input in errors. It is how other domains (rollouts) find the
// components behind a system or a team.
func (s *Service) ComponentsIn(ctx context.Context, field, ref string, keys []string) ([]map[string]string, error) {
	r, err := ParseRefInput(field, ref, "")
	if err != nil {
		return nil, err
	}
	f := Filter{Kinds: []string{KindComponent}}
	switch r.Kind {
	case "system":
		f.Systems = []string{r.String()}
	case "group":
		f.Owners, f.IncludeDescendants = []string{r.String()}, true
	default:
		return nil, errs.InvalidField(field, "%s is neither a system nor a group", r)
	}
	if _, err := s.Entity(ctx, r); err != nil {
		return nil, err
	}
	// Annotation filters combine with AND; a component with any of keys is wanted: one sweep per key.
	seen := map[string]bool{}
	var out []map[string]string
	for _, k := range keys {
		q := Query{Filter: f, First: MaxPageSize}
		q.Filter.Annotations = []AnnotationFilter{{Key: k}}
		for {
			page, err := s.Find(ctx, q)
			if err != nil {
				return nil, err
			}
			for _, e := range page.Entities {
				if ref := e.Ref.String(); !seen[ref] {
					seen[ref] = true
					out = append(out, e.Metadata.Annotations)
				}
			}
			if len(out) > MaxScopeComponents {
				return nil, errs.InvalidField(field, "%s has more than %d components with those annotations; ask for a smaller scope", r, MaxScopeComponents)
			}
			if !page.HasNextPage || len(page.Cursors) == 0 {
				break
			}
			q.After = page.Cursors[len(page.Cursors)-1]
		}
	}
	return out, nil
}
