package catalog

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
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

// MaxAnnotationFilters bounds Filter.Annotations apart: they combine (each must match), and each
// is a subquery of its own; PostgreSQL took 40 s to plan 200 of them.
const MaxAnnotationFilters = 16

// checkSizes refuses a filter with a list longer than its bound, naming the field.
func (f Filter) checkSizes() error {
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
}

// Page is one page of a query.
type Page struct {
	Entities    []*Entity
	Cursors     []string // one per entity, for Relay edges
	HasNextPage bool
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
	db, err := s.filtered(ctx, q.Filter)
	if err != nil {
		return Page{}, err
	}
	dir := "ASC"
	cmp := ">"
	if q.Order.Descending {
		dir, cmp = "DESC", "<"
	}
	if q.After != "" {
		vals, err := decodeCursor(q.After, len(cols))
		if err != nil {
			return Page{}, err
		}
		args := make([]any, len(vals))
		for i, v := range vals {
			args[i] = v
			if cols[i] == "e.updated_at" {
				t, err := time.Parse(time.RFC3339Nano, v)
				if err != nil {
					return Page{}, errs.InvalidField("after", "is not a cursor of this ordering")
				}
				args[i] = t
			}
		}
		db = db.Where(fmt.Sprintf("(%s) %s (%s)", strings.Join(cols, ", "), cmp, placeholders(len(cols))), args...)
	}
	order := make([]string, len(cols))
	for i, c := range cols {
		order[i] = c + " " + dir
	}
	type keyRow struct {
		Ref       string
		Name      string
		Kind      string
		UpdatedAt time.Time
	}
	var keys []keyRow
	err = db.Select("e.ref, e.name, e.kind, e.updated_at").Order(strings.Join(order, ", ")).Limit(first + 1).Scan(&keys).Error
	if err != nil {
		return Page{}, store.Translate(err, "entities")
	}
	page := Page{HasNextPage: len(keys) > first}
	keys = keys[:min(len(keys), first)]
	refs := make([]Ref, len(keys))
	for i, k := range keys {
		refs[i] = refOrZero(k.Ref)
	}
	ents, err := s.EntitiesByRef(ctx, refs)
	if err != nil {
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
		page.Cursors = append(page.Cursors, encodeCursor(vals))
	}
	return page, nil
}

// Count returns how many entities match f.
func (s *Service) Count(ctx context.Context, f Filter) (int, error) {
	return cachedQuery(ctx, s.cache, cacheKey("count", f), func() (int, error) { return s.count(ctx, f) })
}

func (s *Service) count(ctx context.Context, f Filter) (int, error) {
	db, err := s.filtered(ctx, f)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := db.Count(&n).Error; err != nil {
		return 0, store.Translate(err, "entities")
	}
	return int(n), nil
}

// MaxFacetValues bounds the values returned per facet.
const MaxFacetValues = 1000

// Facets counts the entities matching f by each of fields, most frequent value first (ties by
// value), at most limit values per field (MaxFacetValues when 0).
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
	case limit < 0 || limit > MaxFacetValues:
		return nil, errs.InvalidField("limit", "must be between 1 and %d, got %d", MaxFacetValues, limit)
	case limit == 0:
		limit = MaxFacetValues
	}
	out := make(map[FacetField][]FacetValue, len(fields))
	for _, field := range fields {
		if _, done := out[field]; done {
			continue
		}
		db, err := s.filtered(ctx, f)
		if err != nil {
			return nil, err
		}
		var col string
		switch field {
		case FacetKind:
			col = "e.kind"
		case FacetType:
			col = "e.spec_type"
		case FacetLifecycle:
			col = "e.lifecycle"
		case FacetOwner:
			col = "e.owner_ref"
		case FacetNamespace:
			col = "e.namespace"
		case FacetSystem:
			col = "e.system_ref"
		case FacetTag:
			db = db.Joins("JOIN entity_tags t ON t.entity_id = e.id")
			col = "t.tag"
		default:
			return nil, errs.InvalidField("fields", "unknown facet %q", field)
		}
		var rows []FacetValue
		err = db.Select(col + " AS value, COUNT(*) AS count").Where(col + " <> ''").
			Group(col).Order("count DESC, value ASC").Limit(limit).Scan(&rows).Error
		if err != nil {
			return nil, store.Translate(err, "facets")
		}
		out[field] = rows
	}
	return out, nil
}

// filtered returns a query over "entities e" restricted by f.
func (s *Service) filtered(ctx context.Context, f Filter) (*gorm.DB, error) {
	if err := f.checkSizes(); err != nil {
		return nil, err
	}
	db := s.st.DB(ctx).Table("entities AS e")
	if f.Text != "" {
		words := searchWords(f.Text)
		if len(words) == 0 {
			return nil, errs.InvalidField("text", "has no letters or digits to search for")
		}
		if s.st.Dialect() == store.Postgres {
			terms := make([]string, len(words))
			for i, w := range words {
				terms[i] = w + ":*"
			}
			db = db.Where("e.search @@ to_tsquery('simple', ?)", strings.Join(terms, " & "))
		} else {
			terms := make([]string, len(words))
			for i, w := range words {
				terms[i] = `"` + w + `"*`
			}
			db = db.Where("e.id IN (SELECT rowid FROM entities_fts WHERE entities_fts MATCH ?)", strings.Join(terms, " "))
		}
	}
	if len(f.Kinds) > 0 {
		kinds := make([]string, len(f.Kinds))
		for i, k := range f.Kinds {
			if kinds[i] = CanonicalKind(k); kinds[i] == "" {
				return nil, errs.InvalidField("kinds", "unknown kind %q; known kinds are %s", k, strings.Join(Kinds, ", "))
			}
		}
		db = db.Where("e.kind IN ?", kinds)
	}
	if len(f.Namespaces) > 0 {
		db = db.Where("e.namespace IN ?", lower(f.Namespaces))
	}
	if len(f.Types) > 0 {
		db = db.Where("e.spec_type IN ?", f.Types)
	}
	if len(f.Lifecycles) > 0 {
		db = db.Where("e.lifecycle IN ?", f.Lifecycles)
	}
	if len(f.Owners) > 0 {
		owners, err := parseRefs("owners", f.Owners, "group")
		if err != nil {
			return nil, err
		}
		if f.IncludeDescendants {
			seeds := strings.TrimSuffix(strings.Repeat("SELECT ? UNION ", len(owners)), " UNION ")
			args := make([]any, len(owners))
			for i, o := range owners {
				args[i] = o
			}
			db = db.Where("e.owner_ref IN ("+s.descendantsSQL(seeds)+")", args...)
		} else {
			db = db.Where("e.owner_ref IN ?", owners)
		}
	}
	if len(f.Systems) > 0 {
		systems, err := parseRefs("systems", f.Systems, "system")
		if err != nil {
			return nil, err
		}
		db = db.Where("e.system_ref IN ?", systems)
	}
	if len(f.Tags) > 0 {
		db = db.Where("e.id IN (SELECT entity_id FROM entity_tags WHERE tag IN ?)", lower(f.Tags))
	}
	for _, a := range f.Annotations {
		if a.Key == "" {
			return nil, errs.InvalidField("annotations", "key is empty")
		}
		if a.Value == nil {
			db = db.Where("EXISTS (SELECT 1 FROM entity_annotations a WHERE a.entity_id = e.id AND a.key = ?)", a.Key)
		} else {
			db = db.Where("EXISTS (SELECT 1 FROM entity_annotations a WHERE a.entity_id = e.id AND a.key = ? "+
				"AND substr(a.value, 1, 200) = substr(?, 1, 200) AND a.value = ?)", a.Key, *a.Value, *a.Value)
		}
	}
	if f.LocationID != 0 {
		db = db.Where("e.location_id = ?", f.LocationID)
	}
	return db, nil
}

// descendantsSQL selects the refs of the seed groups and every group below them. A group's children
// are the groups it lists in spec.children (its parentOf relations) and the groups that name it in
// spec.parent (their childOf relations), so each step of the recursion follows both.
func (s *Service) descendantsSQL(seeds string) string {
	const children = "SELECT r.target_ref FROM entities g JOIN relations r ON r.entity_id = g.id WHERE g.ref = tree.ref AND r.type = 'parentOf'"
	const claimed = "SELECT g.ref FROM relations r JOIN entities g ON g.id = r.entity_id WHERE r.target_ref = tree.ref AND r.type = 'childOf'"
	if s.st.Dialect() == store.Postgres {
		// PostgreSQL allows one recursive reference: both steps go in one LATERAL subquery. The
		// seeds take the "C" collation of the columns, or the recursion is refused.
		seeds = strings.ReplaceAll(seeds, "SELECT ?", `SELECT CAST(? AS TEXT) COLLATE "C"`)
		return "WITH RECURSIVE tree(ref) AS (" + seeds + " UNION SELECT step.ref FROM tree, LATERAL (" +
			children + " UNION ALL " + claimed + ") AS step(ref)) SELECT ref FROM tree"
	}
	return "WITH RECURSIVE tree(ref) AS (" + seeds + " UNION " + strings.Replace(children, "WHERE", ", tree WHERE", 1) +
		" UNION " + strings.Replace(claimed, "WHERE", ", tree WHERE", 1) + ") SELECT ref FROM tree"
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

func orderColumns(f OrderField) ([]string, error) {
	switch f {
	case "", OrderByName:
		return []string{"e.name", "e.ref"}, nil
	case OrderByKind:
		return []string{"e.kind", "e.name", "e.ref"}, nil
	case OrderByUpdatedAt:
		return []string{"e.updated_at", "e.ref"}, nil
	}
	return nil, errs.InvalidField("orderBy", "unknown field %q", f)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// cacheKey identifies a query by its kind and every parameter.
func cacheKey(kind string, params any) string {
	b, _ := json.Marshal(params)
	return kind + ":" + string(b)
}

// Cursors are opaque to clients: base64 of the sort key values of the last row seen.
func encodeCursor(vals []string) string {
	b, _ := json.Marshal(vals)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string, n int) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	var vals []string
	if err == nil {
		err = json.Unmarshal(b, &vals)
	}
	if err != nil || len(vals) != n {
		return nil, errs.InvalidField("after", "is not a cursor of this ordering")
	}
	return vals, nil
}
