package catalog

import (
	"context"
	"slices"
	"strings"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
)

// chunk bounds the refs per IN (...) list, well under both databases' parameter limits.
const chunk = 500

// Entity returns one entity with its relations, or a NOT_FOUND error.
func (s *Service) Entity(ctx context.Context, ref backstage.Ref) (*backstage.Entity, error) {
	got, err := s.EntitiesByRef(ctx, []backstage.Ref{ref})
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
func (s *Service) EntitiesByRef(ctx context.Context, refs []backstage.Ref) (map[backstage.Ref]*backstage.Entity, error) {
	return s.byRef(ctx, refs, s.loadEntities, true)
}

// SummariesByRef is EntitiesByRef for callers that show of each entity only what its summary
// holds (see Query.Summaries): the entities among refs that exist, keyed by ref, each whole where
// the read cache holds it, else its row's summary, read by one statement per chunk of refs with
// no document decoded and no relation read. Summaries never enter the cache. A caller that
// follows its entities' relations, or shows their spec, must use EntitiesByRef.
func (s *Service) SummariesByRef(ctx context.Context, refs []backstage.Ref) (map[backstage.Ref]*backstage.Entity, error) {
	return s.byRef(ctx, refs, func(ctx context.Context, part []string) ([]*backstage.Entity, error) {
		keys, err := s.loadSummaries(ctx, part)
		if err != nil {
			return nil, err
		}
		out := make([]*backstage.Entity, len(keys))
		for i := range keys {
			out[i] = keys[i].summary()
		}
		return out, nil
	}, false)
}

// byRef returns the entities among refs that the read cache holds, and loads the others, sorted
// and distinct, a chunk of refs at a time; with keep, what it loads enters the cache.
func (s *Service) byRef(ctx context.Context, refs []backstage.Ref, load func(context.Context, []string) ([]*backstage.Entity, error), keep bool) (map[backstage.Ref]*backstage.Entity, error) {
	out := make(map[backstage.Ref]*backstage.Entity, len(refs))
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
		loaded, err := load(ctx, part)
		if err != nil {
			return nil, err
		}
		if keep {
			s.cache.addEntities(epoch, loaded)
		}
		for _, e := range loaded {
			out[e.Ref] = e
		}
	}
	return out, nil
}

// ParseRefInput reads a reference typed by a person or a client, naming the input in errors.
func ParseRefInput(field, s, defaultKind string) (backstage.Ref, error) {
	r, err := backstage.ParseRef(s, defaultKind, backstage.DefaultNamespace)
	if err != nil {
		return backstage.Ref{}, errs.InvalidField(field, "%s", strings.TrimPrefix(errs.PublicMessage(err), "entity reference "))
	}
	return r, nil
}

// EntityByInput looks up an entity by a reference typed by a client, with kind filling in a
// reference that names none. It returns nil, nil when there is no such entity.
func (s *Service) EntityByInput(ctx context.Context, ref, kind string) (*backstage.Entity, error) {
	r, err := ParseRefInput("ref", ref, kind)
	if err != nil {
		return nil, err
	}
	got, err := s.EntitiesByRef(ctx, []backstage.Ref{r})
	if err != nil {
		return nil, err
	}
	return got[r], nil
}

// EntityByInputWithTargets is EntityByInput that also returns, keyed by ref, the summaries
// (pageKey.summary) of the entities that the entity's relations of targetTypes (none: no
// targets) target, read by the statement that reads the entity: a view of an entity shows its
// owner and system beside it, and reading them apart was a second round trip, about a sixth of
// the server's work for such a request (an entity by ref at a million entities, every cache
// off). The targets are nil where they were not read so: the entity came from the read cache, a
// relation of those types names a target its document does not declare, or it has more than
// targetsMax of them (see loadEntitiesWith); the caller then reads them as before.
//
// With summary, for a caller that shows of the entity only what its summary holds and its
// relations, the entity is read as its summary with its relations where the read cache is off:
// its document is neither read nor decoded, so it has no apiVersion, spec, labels, annotations
// or links (the decoding was a tenth of the server's work for an entity by ref, every cache
// off). With the cache on it is read whole, as without summary, and kept: later reads are
// answered from memory. A summary never enters the cache.
func (s *Service) EntityByInputWithTargets(ctx context.Context, ref, kind string, targetTypes []string, summary bool) (*backstage.Entity, map[backstage.Ref]*backstage.Entity, error) {
	r, err := ParseRefInput("ref", ref, kind)
	if err != nil {
		return nil, nil, err
	}
	document := !summary || s.cache.entities != nil
	var targets map[backstage.Ref]*backstage.Entity // left nil where the read cache answers
	got, err := s.byRef(ctx, []backstage.Ref{r}, func(ctx context.Context, part []string) ([]*backstage.Entity, error) {
		loaded, t, err := s.loadEntitiesWith(ctx, part, targetTypes, document)
		targets = t
		return loaded, err
	}, document)
	if err != nil || got[r] == nil {
		return nil, nil, err
	}
	return got[r], targets, nil
}

// ComponentAnnotations looks up a component by a reference a client typed (the kind defaults to
// component) and returns its canonical ref and its annotations; field names the input in errors
// (a component the catalog does not have is NOT_FOUND naming it). It is how other domains
// (rollouts, deploys) read what ties a component to their world.
func (s *Service) ComponentAnnotations(ctx context.Context, field, ref string) (string, map[string]string, error) {
	r, err := ParseRefInput(field, ref, "component")
	if err != nil {
		return "", nil, err
	}
	if r.Kind != "component" {
		return "", nil, errs.InvalidField(field, "%s is not a component", r)
	}
	e, err := s.Entity(ctx, r)
	if errs.Is(err, errs.NotFound) {
		return "", nil, errs.NotFoundField(field, "no component %s in the catalog", r)
	} else if err != nil {
		return "", nil, err
	}
	return r.String(), e.Metadata.Annotations, nil
}

// MaxScopeComponents bounds how many components ComponentsIn reads for one scope.
const MaxScopeComponents = 5000

// ComponentsIn returns the annotations of the components in a scope that carry at least one of
// keys, by component ref: a system's components (ref system:...) or those owned by a group or
// any group below it (ref group:...). field names the input in errors. It is how other domains (rollouts) find the
// components behind a system or a team.
func (s *Service) ComponentsIn(ctx context.Context, field, ref string, keys []string) (map[string]map[string]string, error) {
	r, err := ParseRefInput(field, ref, "")
	if err != nil {
		return nil, err
	}
	f := Filter{Kinds: []string{backstage.KindComponent}}
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
	out := map[string]map[string]string{}
	for _, k := range keys {
		q := Query{Filter: f, First: MaxPageSize}
		q.Filter.Annotations = []AnnotationFilter{{Key: k}}
		for {
			page, err := s.Find(ctx, q)
			if err != nil {
				return nil, err
			}
			for _, e := range page.Entities {
				out[e.Ref.String()] = e.Metadata.Annotations
			}
			if len(out) > MaxScopeComponents {
				return nil, errs.InvalidField(field, "%s has more than %d components with those annotations; ask for a smaller scope", r, MaxScopeComponents)
			}
			after, more := page.NextAfter()
			if !more {
				break
			}
			q.After = after
		}
	}
	return out, nil
}
