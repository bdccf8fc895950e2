package catalog

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
)

// Filter selects entities. Values within one field are alternatives (any of them matches); fields
// combine (all must match). Empty fields do not filter.
type Filter struct {
	// Text matches words of name, title, description and tags; each word of the query must match
	// the start of a word of the entity ("pay api" finds "payments-api").
	Text       string
	Kinds      []string
	Namespaces []string
	Types      []string
	Lifecycles []string
	// Owners are refs of owners (kind defaults to group).
	Owners []string
	// IncludeDescendants widens Owners to the groups below them in the hierarchy.
	IncludeDescendants bool
	// Systems are refs of systems (kind defaults to system).
	Systems     []string
	Tags        []string
	Annotations []AnnotationFilter
	// LocationID keeps entities from one registered location.
	LocationID int64
}

// MaxFilterValues bounds each list of a Filter: every value is a SQL variable, and 100,000 of
// them failed inside the database ("too many SQL variables") as an internal error.
const MaxFilterValues = 200

// MaxTextBytes bounds Filter.Text, as the runbooks' and the search's texts are bounded: every
// word is a term of the text search's query and a key of its counts, and 100 kB of words (20,000
// of them) took 1.25 s on a catalog of a hundred entities.
const MaxTextBytes = 200

// MaxAnnotationFilters bounds Filter.Annotations apart: they combine (each must match), and each
// is a subquery of its own; PostgreSQL took 40 s to plan 200 of them.
const MaxAnnotationFilters = 16

// onlyText says whether f restricts by its text alone.
func (f Filter) onlyText() bool {
	return len(f.Kinds) == 0 && len(f.Namespaces) == 0 && len(f.Types) == 0 && len(f.Lifecycles) == 0 && len(f.Owners) == 0 &&
		len(f.Systems) == 0 && len(f.Tags) == 0 && len(f.Annotations) == 0 && f.LocationID == 0
}

// onlyKinds reports whether f filters by kinds alone, or not at all: what the counts kept in
// entity_counts answer.
func (f Filter) onlyKinds() bool {
	return f.Text == "" && len(f.Namespaces) == 0 && len(f.Types) == 0 && len(f.Lifecycles) == 0 && len(f.Owners) == 0 &&
		len(f.Systems) == 0 && len(f.Tags) == 0 && len(f.Annotations) == 0 && f.LocationID == 0
}

// oneAnnotation reports whether f filters by one annotation and nothing else.
func (f Filter) oneAnnotation() bool {
	alone := f
	alone.Annotations = nil
	return len(f.Annotations) == 1 && alone.onlyKinds() && len(f.Kinds) == 0
}

// countedField says which facet field f restricts by, when it is the only one besides kinds and
// the kept counts sum to its count exactly, with its values spelled as they are kept: a field an
// entity has one value of (namespace, type, lifecycle, owner, system; the values' counts add up),
// or one tag (an entity with two of the tags asked for is kept under each). It returns "" for any
// other filter, and for an empty value, which is not kept.
func (f Filter) countedField() (field string, values []string, err error) {
	if err := f.checkSizes(); err != nil {
		return "", nil, err
	}
	if f.Text != "" || len(f.Annotations) > 0 || f.LocationID != 0 || (f.IncludeDescendants && len(f.Owners) > 0) {
		return "", nil, nil
	}
	fields := 0
	for _, c := range []struct {
		name string
		in   []string
		read func([]string) ([]string, error)
	}{
		{"namespace", f.Namespaces, func(in []string) ([]string, error) { return lower(in), nil }},
		{"type", f.Types, nil},
		{"lifecycle", f.Lifecycles, nil},
		{"owner", f.Owners, func(in []string) ([]string, error) { return parseRefs("owners", in, "group") }},
		{"system", f.Systems, func(in []string) ([]string, error) { return parseRefs("systems", in, "system") }},
		{"tag", f.Tags, func(in []string) ([]string, error) { return lower(in), nil }},
	} {
		if len(c.in) == 0 {
			continue
		}
		if fields++; fields > 1 {
			return "", nil, nil
		}
		field, values = c.name, c.in
		if c.read != nil {
			if values, err = c.read(c.in); err != nil {
				return "", nil, err
			}
		}
	}
	if slices.Contains(values, "") {
		return "", nil, nil
	}
	if field == "tag" && slices.ContainsFunc(values, func(t string) bool { return t != values[0] }) {
		return "", nil, nil
	}
	return field, values, nil
}

// checkSizes refuses a filter with a text or a list longer than its bound, naming the field.
func (f Filter) checkSizes() error {
	if len(f.Text) > MaxTextBytes {
		return errs.InvalidField("text", "has %d bytes; at most %d", len(f.Text), MaxTextBytes)
	}
	if len(f.Annotations) > MaxAnnotationFilters {
		return errs.InvalidField("annotations", "has %d entries; at most %d are accepted (each must match)", len(f.Annotations), MaxAnnotationFilters)
	}
	lists := []struct {
		field string
		n     int
	}{
		{"kinds", len(f.Kinds)}, {"namespaces", len(f.Namespaces)}, {"types", len(f.Types)},
		{"lifecycles", len(f.Lifecycles)}, {"owners", len(f.Owners)}, {"systems", len(f.Systems)},
		{"tags", len(f.Tags)},
	}
	for _, l := range lists {
		if l.n > MaxFilterValues {
			return errs.InvalidField(l.field, "has %d values; at most %d are accepted", l.n, MaxFilterValues)
		}
	}
	return nil
}

// AnnotationFilter matches entities that have an annotation, with a given value when Value is set.
type AnnotationFilter struct {
	Key   string
	Value *string
}

// OrderField is what a page is sorted by.
type OrderField string

// The sort orders.
const (
	OrderByName      OrderField = "name"
	OrderByKind      OrderField = "kind"
	OrderByUpdatedAt OrderField = "updatedAt"
)

// Order sorts a page; ties break on the ref so order and cursors are stable.
type Order struct {
	Field      OrderField
	Descending bool
}

// MaxPageSize bounds First.
const MaxPageSize = 500

// Query asks for one page of entities.
type Query struct {
	Filter Filter
	Order  Order
	First  int    // page size, 1..MaxPageSize (50 when 0)
	After  string // cursor of the last entity of the previous page
	// Summaries asks for the page's entities as their rows' columns show them, read by the
	// page's own statement: ref, kind, namespace, name, title, description, tags, type,
	// lifecycle, owner, system, source and the created and updated times, without decoding the
	// stored document or reading relations. Their apiVersion, spec, labels, annotations, links,
	// relations, location and hash are empty, whatever the entity holds: it is for callers that
	// show none of those (a list that shows names and titles). An entity the read cache holds
	// whole is returned whole; summaries never enter that cache.
	Summaries bool
	// Count asks for how many entities match Filter too (Page.Total), read by the page's own
	// statement: for a page that shows its total, a round trip less than Count.
	Count bool
}

// Page is one page of a query.
type Page struct {
	Entities []*backstage.Entity
	// sortKeys are each entity's values of the order's columns, which its cursor encodes
	// (Cursor): encoded when asked for, since most pages show no edge and at most their last
	// cursor (an owner's page of 50: 4 % of the server's CPU encoded cursors no one read).
	sortKeys [][]string
	// order names the page's order in its cursors (cursorOrder): a cursor is refused by any
	// other, where the values alone fit another's columns (an update time taken for a name).
	order       string
	HasNextPage bool
	// Summaries says the entities may be summaries (Query.Summaries).
	Summaries bool
	// Total is how many entities match the filter, every page of them, when Counted: when
	// Query.Count asked and the page's statement could tell (an empty page after a cursor
	// cannot; Count can).
	Total   int
	Counted bool
}

// FacetField is an attribute facets count by.
type FacetField string

// The facet fields.
const (
	FacetKind      FacetField = "kind"
	FacetType      FacetField = "type"
	FacetLifecycle FacetField = "lifecycle"
	FacetOwner     FacetField = "owner"
	FacetNamespace FacetField = "namespace"
	FacetSystem    FacetField = "system"
	FacetTag       FacetField = "tag"
)

// FacetValue is one value of a facet with the number of matching entities that have it.
type FacetValue struct {
	Value string
	Count int
}

// Find returns one page of entities matching q.
func (s *Service) Find(ctx context.Context, q Query) (Page, error) {
	return cachedQuery(ctx, s.cache, cacheKey("find", q), func() (Page, error) { return s.find(ctx, q) })
}

func (s *Service) find(ctx context.Context, q Query) (Page, error) {
	first := q.First
	switch {
	case first == 0:
		first = 50
	case first < 0 || first > MaxPageSize:
		return Page{}, errs.InvalidField("first", "must be between 1 and %d, got %d", MaxPageSize, first)
	}
	cols, err := orderColumns(q.Order.Field)
	if err != nil {
		return Page{}, err
	}
	order := cursorOrder(q.Order)
	var after []string
	if q.After != "" {
		if after, err = decodeCursor(q.After, order, len(cols)); err != nil {
			return Page{}, err
		}
	}
	f, err := s.withDescendants(ctx, q.Filter)
	if err != nil {
		return Page{}, err
	}
	keys, total, err := s.findKeys(ctx, f, q.Order, after, first+1, q.Summaries, q.Count)
	if err != nil {
		return Page{}, err
	}
	page := Page{HasNextPage: len(keys) > first, Summaries: q.Summaries, Total: max(total, 0), Counted: total >= 0, order: order}
	keys = keys[:min(len(keys), first)]
	refs := make([]backstage.Ref, len(keys))
	for i, k := range keys {
		refs[i] = refOrZero(k.Ref)
	}
	var ents map[backstage.Ref]*backstage.Entity
	if q.Summaries {
		ents = s.summaries(ctx, keys, refs)
	} else if ents, err = s.EntitiesByRef(ctx, refs); err != nil {
		return Page{}, err
	}
	for i, k := range keys {
		e, ok := ents[refs[i]]
		if !ok {
			continue // removed between the two reads; the next page's cursor still works
		}
		var vals []string
		switch q.Order.Field {
		case OrderByKind:
			vals = []string{k.Kind, k.Name, k.Ref}
		case OrderByUpdatedAt:
			vals = []string{k.UpdatedAt.UTC().Format(time.RFC3339Nano), k.Ref}
		default:
			vals = []string{k.Name, k.Ref}
		}
		page.Entities = append(page.Entities, e)
		page.sortKeys = append(page.sortKeys, vals)
	}
	return page, nil
}

// summaries are the entities of a page's keys read with their summaries (Query.Summaries): the
// whole entity where the read cache holds it, else the summary of its row. Summaries are not
// added to the cache, which holds whole entities only.
func (s *Service) summaries(ctx context.Context, keys []pageKey, refs []backstage.Ref) map[backstage.Ref]*backstage.Entity {
	s.cache.syncIfCaching(ctx)
	out := make(map[backstage.Ref]*backstage.Entity, len(keys))
	for i := range keys {
		r := refs[i]
		if r.IsZero() {
			continue
		}
		if e, ok := s.cache.entity(r); ok {
			out[r] = e
		} else {
			out[r] = keys[i].summary()
		}
	}
	return out
}

// Count returns how many entities match f.
func (s *Service) Count(ctx context.Context, f Filter) (int, error) {
	return cachedQuery(ctx, s.cache, cacheKey("count", f), func() (int, error) { return s.count(ctx, f) })
}

func (s *Service) count(ctx context.Context, f Filter) (int, error) {
	f, err := s.withDescendants(ctx, f)
	if err != nil {
		return 0, err
	}
	return s.countMatching(ctx, f)
}

// MaxFacetValues bounds the values returned per facet.
const MaxFacetValues = 1000

// Facets counts the entities matching f by each of fields, most frequent value first (ties by
// value), at most limit values per field (1 to MaxFacetValues).
func (s *Service) Facets(ctx context.Context, f Filter, fields []FacetField, limit int) (map[FacetField][]FacetValue, error) {
	key := cacheKey("facets", struct {
		F      Filter
		Fields []FacetField
		Limit  int
	}{f, fields, limit})
	return cachedQuery(ctx, s.cache, key, func() (map[FacetField][]FacetValue, error) { return s.facets(ctx, f, fields, limit) })
}

func (s *Service) facets(ctx context.Context, f Filter, fields []FacetField, limit int) (map[FacetField][]FacetValue, error) {
	switch {
	case limit < 1 || limit > MaxFacetValues:
		// 0 too: it meant "the most" here, and reached from the API it ran a thousand values a
		// field that the complexity limit weighed as a hundred.
		return nil, errs.InvalidField("limit", "must be between 1 and %d, got %d", MaxFacetValues, limit)
	}
	f, err := s.withDescendants(ctx, f)
	if err != nil {
		return nil, err
	}
	if f.onlyKinds() {
		return s.countedFacets(ctx, f, fields, limit)
	}
	sf, shaped, err := s.shapeFiltered(f)
	if err != nil {
		return nil, err
	}
	if !shaped {
		return s.matchedFacets(ctx, f, fields, limit)
	}
	// The fields the kept counts answer (kept: by shape, by tag for a tag over kinds or none, by
	// type for owners and systems) are summed from them; the others (an owner or system beside a
	// namespace, or a tag and a type; a tag beside a tag and a type) counted from the matches, in
	// a statement of their own, so in a snapshot of their own: an apply committing between the
	// two shows in one and not yet in the other.
	var kept, others []FacetField
	for _, field := range fields {
		if sf.kept(field) {
			kept = append(kept, field)
		} else {
			others = append(others, field)
		}
	}
	out, err := s.shapeFacets(ctx, sf, kept, limit)
	if err != nil || len(others) == 0 {
		return out, err
	}
	counted, err := s.matchedFacets(ctx, f, others, limit)
	if err != nil {
		return nil, err
	}
	for field, values := range counted {
		out[field] = values
	}
	return out, nil
}

// matchedFacets is facets of f counted from the entities it matches (groupedFacets) or, where f
// matches most of its kinds' entities by one field, from those it does not (fieldFacets, restFacets).
func (s *Service) matchedFacets(ctx context.Context, f Filter, fields []FacetField, limit int) (map[FacetField][]FacetValue, error) {
	if field, values, err := f.countedField(); err != nil {
		return nil, err
	} else if field != "" {
		return s.fieldFacets(ctx, f, field, values, fields, limit)
	}
	return s.groupedFacets(ctx, f, fields, limit)
}

func parseRefs(field string, in []string, defaultKind string) ([]string, error) {
	out := make([]string, len(in))
	for i, s := range in {
		r, err := ParseRefInput(field, s, defaultKind)
		if err != nil {
			return nil, err
		}
		out[i] = r.String()
	}
	return out, nil
}

func lower(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(s)
	}
	return out
}

// cacheKey identifies a query by its kind and every parameter.
func cacheKey(kind string, params any) string {
	b, _ := json.Marshal(params)
	return kind + ":" + string(b)
}

// NewPage is a page of entities in name order with each one's values of the order's columns,
// which its cursor encodes, for code that makes a page itself (tests of what shows pages).
func NewPage(entities []*backstage.Entity, sortKeys [][]string, hasNext bool) Page {
	return Page{Entities: entities, sortKeys: sortKeys, HasNextPage: hasNext, order: cursorOrder(Order{})}
}

// Cursor is the cursor of the page's i-th entity, for Relay edges and the next page's After.
func (p Page) Cursor(i int) string { return encodeCursor(p.order, p.sortKeys[i]) }

// NextAfter is the After of the page that follows this one, or false where none does.
func (p Page) NextAfter() (string, bool) {
	if !p.HasNextPage || len(p.sortKeys) == 0 {
		return "", false
	}
	return p.Cursor(len(p.sortKeys) - 1), true
}

// Cursors are the cursors of every entity of the page, in order.
func (p Page) Cursors() []string {
	out := make([]string, len(p.sortKeys))
	for i := range p.sortKeys {
		out[i] = p.Cursor(i)
	}
	return out
}

// cursorOrder names an order in its pages' cursors: the field, after a minus when descending.
func cursorOrder(o Order) string {
	name := string(o.Field)
	if name == "" {
		name = string(OrderByName)
	}
	if o.Descending {
		return "-" + name
	}
	return name
}

// Cursors are opaque to clients: base64 of a JSON list of the order's name (cursorOrder), then
// the sort key values of the last row seen. The name makes a cursor of one order refused by
// another whose columns its values would fit: an update time read as a name gave the first page
// again, and an ascending cursor read descending an empty page.
func encodeCursor(order string, vals []string) string {
	b, _ := json.Marshal(append([]string{order}, vals...))
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the n sort key values of a cursor of order, or an error naming after.
func decodeCursor(c, order string, n int) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	var vals []string
	if err == nil {
		err = json.Unmarshal(b, &vals)
	}
	if err != nil || len(vals) != n+1 || vals[0] != order {
		return nil, errs.InvalidField("after", "is not a cursor of this ordering")
	}
	return vals[1:], nil
}
