package catalog

import (
	"strings"
	"time"

	"github.com/portside-dev/portside/catalog/backstage"
)

// This file holds the catalog's gorm rows, every table the catalog owns, and their mapping to
// domain types. The queries are beside it: store_entities.go (entities, relations, ownership),
// store_locations.go (locations, their errors and leases), store_counts.go (the kept counts),
// store_query.go (filters, pages, counts), store_search.go (what text searches' statements
// differ by between the databases) and store_facets.go (facets). No other file of the package
// touches the database (layout_test.go checks).

type locationRow struct {
	ID            int64 `gorm:"primaryKey"`
	Type          string
	Target        string
	GitRef        string
	GitPath       string
	Status        string
	Message       string
	Revision      string
	Manifest      string // what the last apply read, to tell cheaply whether it changed
	ErrorsHash    string
	EntityCount   int
	ErrorCount    int
	RefreshedAt   *time.Time
	SucceededAt   *time.Time
	NextRefreshAt *time.Time
	LeaseOwner    string
	LeaseUntil    *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (locationRow) TableName() string { return "locations" }

func (r *locationRow) toLocation() Location {
	return Location{
		ID:            r.ID,
		LocationSpec:  LocationSpec{Type: LocationType(r.Type), Target: r.Target, Ref: r.GitRef, Path: r.GitPath},
		Status:        LocationStatus(r.Status),
		Message:       r.Message,
		Revision:      r.Revision,
		EntityCount:   r.EntityCount,
		ErrorCount:    r.ErrorCount,
		RefreshedAt:   utcPtr(r.RefreshedAt),
		SucceededAt:   utcPtr(r.SucceededAt),
		NextRefreshAt: utcPtr(r.NextRefreshAt),
		CreatedAt:     r.CreatedAt.UTC(),
		UpdatedAt:     r.UpdatedAt.UTC(),
	}
}

type locationErrorRow struct {
	ID         int64 `gorm:"primaryKey"`
	LocationID int64
	Source     string
	Document   int
	Line       int
	Field      string
	EntityRef  string
	Message    string
}

func (locationErrorRow) TableName() string { return "location_errors" }

func (r *locationErrorRow) toError() backstage.ValidationError {
	return backstage.ValidationError{Source: r.Source, Document: r.Document, Line: r.Line, Field: r.Field, Ref: r.EntityRef, Message: r.Message}
}

type entityRow struct {
	ID          int64 `gorm:"primaryKey"`
	Ref         string
	Kind        string
	Namespace   string
	Name        string
	Title       string
	Description string
	SpecType    string
	Lifecycle   string
	OwnerRef    string
	SystemRef   string
	Tags        string // space separated: tags cannot contain spaces
	SearchText  string // the words text search finds (see search.go)
	Body        string // the entity as a Backstage JSON document
	Hash        string
	LocationID  int64
	Source      string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (entityRow) TableName() string { return "entities" }

type tagRow struct {
	EntityID int64  `gorm:"primaryKey;autoIncrement:false"`
	Tag      string `gorm:"primaryKey"`
}

func (tagRow) TableName() string { return "entity_tags" }

type annotationRow struct {
	EntityID int64  `gorm:"primaryKey;autoIncrement:false"`
	Key      string `gorm:"primaryKey"`
	Value    string
}

func (annotationRow) TableName() string { return "entity_annotations" }

// relationRow is one relation as an entity declares it (a component's ownedBy). The inverse
// (the group's ownerOf) is not stored: it is read by target_ref. Rows go with the declaring entity.
// A relation has no key of its own: it is written and removed with its entity, and read by
// entity_id or target_ref (the table's id column is unused; PostgreSQL's 00022). SourceRef is
// the declaring entity's ref (00027), so that the relations naming an entity are read in order
// without fetching every entity that declares one.
type relationRow struct {
	EntityID  int64
	Type      string
	TargetRef string
	SourceRef *string // nullable for an older release's inserts, which do not name it: a trigger fills it (00027)
}

func (relationRow) TableName() string { return "relations" }

type stateRow struct {
	ID         int `gorm:"primaryKey"`
	Generation int64
	ChangedAt  *time.Time
}

func (stateRow) TableName() string { return "catalog_state" }

// entityCountRow is how many entities of a kind have a value of a facet field (migration 00019:
// triggers on entities keep it; facets and counts over kinds alone read it).
type entityCountRow struct {
	Field    string `gorm:"primaryKey"`
	Kind     string `gorm:"primaryKey"`
	Value    string `gorm:"primaryKey"`
	Entities int64
}

func (entityCountRow) TableName() string { return "entity_counts" }

// entityTotalRow is how many entities, of any kind, have a value of a facet field: the sum over
// kinds of entityCountRow (migration 00021: on PostgreSQL a table that triggers on entity_counts
// keep, on SQLite a view; facets over the whole catalog read it).
type entityTotalRow struct {
	Field    string `gorm:"primaryKey"`
	Value    string `gorm:"primaryKey"`
	Entities int64
}

func (entityTotalRow) TableName() string { return "entity_totals" }

// entityPrefixCountRow is how many entities of a kind have a word starting with a prefix
// (migration 00025, PostgreSQL only: an apply and triggers on entities keep it; the count of a
// text search of one word reads it). Read and written with SQL (store_counts.go, store_search.go).
type entityPrefixCountRow struct {
	Prefix   string `gorm:"primaryKey"`
	Kind     string `gorm:"primaryKey"`
	Entities int64
}

func (entityPrefixCountRow) TableName() string { return "entity_prefix_counts" }

// entityShapeCountRow is how many entities there are of a kind, namespace, type and lifecycle
// (Tag empty), or how many of them list Tag (migration 00028 on PostgreSQL, where an apply and
// statement triggers on entities keep it; 00031 on SQLite, row triggers): counts and facets of
// filters by those fields read it. Read and written with SQL (store_counts.go, store_shapes.go).
type entityShapeCountRow struct {
	Kind      string `gorm:"primaryKey"`
	Namespace string `gorm:"primaryKey"`
	SpecType  string `gorm:"primaryKey"`
	Lifecycle string `gorm:"primaryKey"`
	Tag       string `gorm:"primaryKey"`
	Entities  int64
}

func (entityShapeCountRow) TableName() string { return "entity_shape_counts" }

// entityTagCountRow is how many entities of Kind (every kind: empty) listing Tag have Value as
// their Field: owner, system, or a tag they list (migration 00032 on both databases; kept as
// entity_shape_counts is). The facets of a filter by a tag and kinds alone read it. Read and
// written with SQL (store_counts.go, store_shapes.go).
type entityTagCountRow struct {
	Tag      string `gorm:"primaryKey"`
	Field    string `gorm:"primaryKey"`
	Kind     string `gorm:"primaryKey"`
	Value    string `gorm:"primaryKey"`
	Entities int64
}

func (entityTagCountRow) TableName() string { return "entity_tag_counts" }

// entityShapeRefRow is how many entities of a type, lifecycle and Kind (every kind: empty) have
// Value as their Field: owner or system (migration 00033 on both databases; kept as
// entity_shape_counts is). The owner and system facets of a filter by types read it. Read and
// written with SQL (store_counts.go, store_shapes.go).
type entityShapeRefRow struct {
	Field     string `gorm:"primaryKey"`
	SpecType  string `gorm:"primaryKey"`
	Lifecycle string `gorm:"primaryKey"`
	Kind      string `gorm:"primaryKey"`
	Value     string `gorm:"primaryKey"`
	Entities  int64
}

func (entityShapeRefRow) TableName() string { return "entity_shape_refs" }

// entityShapeRefRollupRow is how many entities whose Axis ("type" or "lifecycle") is AxisValue,
// of a Kind (every kind: empty), have Value as their Field: owner or system: entity_shape_refs'
// rows summed over every lifecycle of a type or every type of a lifecycle (migration 00034; on
// PostgreSQL a table kept as entity_shape_refs is, on SQLite a view). The owner and system facets of a filter by types alone or
// lifecycles alone read it. Read and written with SQL (store_counts.go, store_shapes.go).
type entityShapeRefRollupRow struct {
	Field     string `gorm:"primaryKey"`
	Axis      string `gorm:"primaryKey"`
	AxisValue string `gorm:"primaryKey"`
	Kind      string `gorm:"primaryKey"`
	Value     string `gorm:"primaryKey"`
	Entities  int64
}

func (entityShapeRefRollupRow) TableName() string { return "entity_shape_ref_rollups" }

// Models lists every gorm row type of the catalog, for the schema conformance test.
func Models() []any {
	return []any{&locationRow{}, &locationErrorRow{}, &entityRow{}, &tagRow{}, &annotationRow{}, &relationRow{}, &stateRow{},
		&entityCountRow{}, &entityTotalRow{}, &entityPrefixCountRow{}, &entityShapeCountRow{}, &entityTagCountRow{}, &entityShapeRefRow{}, &entityShapeRefRollupRow{}}
}

// newEntityRow maps an entity to its row. body is the entity's JSON document.
func newEntityRow(e *backstage.Entity, body string) entityRow {
	return entityRow{
		Ref:         e.Ref.String(),
		Kind:        e.Kind,
		Namespace:   e.Metadata.Namespace,
		Name:        e.Metadata.Name,
		Title:       e.Metadata.Title,
		Description: e.Metadata.Description,
		SpecType:    e.Type,
		Lifecycle:   e.Lifecycle,
		OwnerRef:    e.Owner.String(),
		SystemRef:   e.System.String(),
		Tags:        strings.Join(e.Metadata.Tags, " "),
		SearchText:  searchText(e),
		Body:        body,
		Hash:        e.Hash,
		LocationID:  e.LocationID,
		Source:      e.Source,
	}
}

// toEntity rebuilds an entity from its row's columns and its stored document, body (scanned
// apart, as bytes, to save a copy); relations are added by the caller.
func (r *entityRow) toEntity(body []byte) (*backstage.Entity, error) {
	e := &backstage.Entity{}
	// Its own decoder directly: through json.Unmarshal the document was checked whole twice,
	// once before the decoder was called and once by it.
	if err := e.UnmarshalJSON(body); err != nil {
		return nil, err
	}
	e.Kind = r.Kind
	e.Ref = refOrZero(r.Ref)
	e.Type = r.SpecType
	e.Lifecycle = r.Lifecycle
	e.Owner = refOrZero(r.OwnerRef)
	e.System = refOrZero(r.SystemRef)
	e.LocationID = r.LocationID
	e.Source = r.Source
	e.Hash = r.Hash
	e.CreatedAt = r.CreatedAt.UTC()
	e.UpdatedAt = r.UpdatedAt.UTC()
	return e, nil
}

// refOrZero parses a stored (canonical) ref; stored refs are always well formed.
func refOrZero(s string) backstage.Ref {
	if s == "" {
		return backstage.Ref{}
	}
	r, err := backstage.ParseRef(s, "", backstage.DefaultNamespace)
	if err != nil {
		return backstage.Ref{}
	}
	return r
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
