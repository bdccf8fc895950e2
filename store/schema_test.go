package store_test

import (
	"database/sql"
	"fmt"
	"github.com/portside-dev/portside/alerts"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
	gormschema "gorm.io/gorm/schema"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/slack"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tasks"
)

// The gorm rows of every domain must match the migrated schema on both dialects: a model field
// without a column, a column of another type, a NULL read into a non-pointer or a column no model
// writes are bugs that only show up at run time, on one dialect, with the wrong data.

// domainModels lists the gorm rows of every domain. A new domain adds its Models here.
var domainModels = map[string]func() []any{
	"catalog":   catalog.Models,
	"auth":      auth.Models,
	"audit":     audit.Models,
	"rollouts":  rollouts.Models,
	"pipelines": pipelines.Models,
	"tasks":     tasks.Models,
	"runbooks":  runbooks.Models,
	"deploys":   deploys.Models,
	"alerts":    alerts.Models,
	"slack":     slack.Models,
}

// unmappedColumn names a column no model reads or writes.
type unmappedColumn struct {
	dialect       store.Dialect
	table, column string
}

// unmappedColumns are the columns no model maps, each with the reason it exists anyway.
// oneDialectTables are the tables only one dialect has, with the reason: their models are
// checked against that dialect's schema only.
var oneDialectTables = map[string]struct {
	dialect store.Dialect
	reason  string
}{
	"entity_prefix_counts": {store.Postgres, "counts of a search word's matches; SQLite counts them in its full-text index (00025)"},
}

var unmappedColumns = map[unmappedColumn]string{
	{store.Postgres, "entities", "search"}: "generated tsvector for full-text search; the database computes it and only WHERE clauses read it",
	{store.Postgres, "runbooks", "search"}: "generated tsvector for the runbook text search; the database computes it and only WHERE clauses read it",
	{store.Postgres, "relations", "id"}:    "unused since 00022 (nullable, unwritten) until a contract step drops it; nothing ever read it",
	{store.SQLite, "relations", "id"}:      "the table's rowid; nothing reads it",
}

// columnKind is a column type family, as far as a Go field cares.
type columnKind string

const (
	kindText      columnKind = "text"
	kindInteger   columnKind = "integer"
	kindTimestamp columnKind = "timestamp"
	kindBoolean   columnKind = "boolean"
	kindReal      columnKind = "real"
	kindBytes     columnKind = "bytes"
)

// kindOfColumn classifies a database type name as either dialect reports it.
func kindOfColumn(dbType string) columnKind {
	t := strings.ToLower(dbType)
	switch {
	case t == "text" || strings.HasPrefix(t, "varchar") || strings.HasPrefix(t, "character") || t == "bpchar":
		return kindText
	case t == "integer" || t == "int" || t == "bigint" || t == "smallint" || t == "int2" || t == "int4" || t == "int8":
		return kindInteger
	case strings.HasPrefix(t, "timestamp") || t == "datetime":
		return kindTimestamp
	case t == "boolean" || t == "bool":
		return kindBoolean
	case t == "real" || t == "double precision" || t == "float4" || t == "float8" || t == "numeric":
		return kindReal
	case t == "blob" || t == "bytea":
		return kindBytes
	}
	return columnKind("unknown type " + dbType)
}

var timeType = reflect.TypeFor[time.Time]()

// kindsOfField says which column kinds a Go field type can be stored in, and whether it can hold NULL.
func kindsOfField(t reflect.Type) (kinds []columnKind, nullable bool) {
	if t.Kind() == reflect.Pointer {
		kinds, _ = kindsOfField(t.Elem())
		return kinds, true
	}
	if t.PkgPath() == "database/sql" && strings.HasPrefix(t.Name(), "Null") {
		// sql.NullString and friends: the kind of their value field.
		kinds, _ = kindsOfField(t.Field(0).Type)
		return kinds, true
	}
	switch {
	case t == timeType:
		return []columnKind{kindTimestamp}, false
	case t.Kind() == reflect.String:
		return []columnKind{kindText}, false
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return []columnKind{kindInteger}, false
	case t.Kind() == reflect.Bool:
		// SQLite has no boolean type: 0 and 1 in an INTEGER.
		return []columnKind{kindBoolean, kindInteger}, false
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return []columnKind{kindReal}, false
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return []columnKind{kindBytes}, false
	}
	return nil, false
}

// column is what the database says about one column.
type column struct {
	name, dbType string
	nullable     bool
	primaryKey   bool
}

// columnsOf reads a table's columns. PostgreSQL's come from gorm's migrator (information_schema).
// On SQLite, gorm's migrator parses the CREATE TABLE text and misses both a composite key written
// "PRIMARY KEY (a, b)" and the NOT NULL that INTEGER PRIMARY KEY implies, so the columns come from
// SQLite itself (PRAGMA table_info); names and types come from the same place either way.
func columnsOf(db *gorm.DB, table string) ([]column, error) {
	if db.Dialector.Name() != "sqlite" {
		cts, err := db.Migrator().ColumnTypes(table)
		if err != nil {
			return nil, err
		}
		var cols []column
		for _, ct := range cts {
			nullable, ok := ct.Nullable()
			if !ok {
				return nil, fmt.Errorf("column %s: nullability unknown", ct.Name())
			}
			pk, _ := ct.PrimaryKey()
			cols = append(cols, column{name: ct.Name(), dbType: ct.DatabaseTypeName(), nullable: nullable, primaryKey: pk})
		}
		return cols, nil
	}
	var info []struct {
		Name    string
		Type    string
		NotNull int
		PK      int
	}
	if err := db.Raw("SELECT name, type, \"notnull\" AS not_null, pk FROM pragma_table_info(?)", table).Scan(&info).Error; err != nil {
		return nil, err
	}
	pks := 0
	for _, c := range info {
		if c.PK > 0 {
			pks++
		}
	}
	var cols []column
	for _, c := range info {
		// A single INTEGER PRIMARY KEY is the rowid: never NULL, whatever the declaration says.
		rowid := c.PK > 0 && pks == 1 && strings.EqualFold(c.Type, "INTEGER")
		cols = append(cols, column{name: c.Name, dbType: c.Type, nullable: c.NotNull == 0 && !rowid, primaryKey: c.PK > 0})
	}
	return cols, nil
}

// isView says whether name is a view of the database (a read model may map one: entity_totals is
// a view on SQLite, a table on PostgreSQL).
func isView(db *gorm.DB, name string) bool {
	q := "SELECT count(*) FROM information_schema.views WHERE table_schema = current_schema() AND table_name = ?"
	if db.Dialector.Name() == "sqlite" {
		q = "SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name = ?"
	}
	var n int64
	return db.Raw(q, name).Scan(&n).Error == nil && n > 0
}

// viewProblems checks a model of a view: a view has no keys or nullability of its own to compare,
// so every field must name one of its columns.
func viewProblems(db *gorm.DB, sch *gormschema.Schema, name string, used map[string]bool) []string {
	cols, err := columnsOf(db, sch.Table)
	if err != nil {
		return []string{fmt.Sprintf("%s: read the view's columns: %v", name, err)}
	}
	has := map[string]bool{}
	for _, c := range cols {
		has[c.name] = true
	}
	var problems []string
	for _, dbName := range sch.DBNames {
		if !has[dbName] {
			problems = append(problems, fmt.Sprintf("%s: field %s maps column %s, which the view does not have", name, sch.FieldsByDBName[dbName].Name, dbName))
		}
		used[sch.Table+"."+dbName] = true
	}
	return problems
}

// schemaProblems compares one gorm model with the table it maps to and describes every mismatch.
// used collects the "table.column" names the model maps.
func schemaProblems(db *gorm.DB, model any, used map[string]bool) []string {
	stmt := &gorm.Statement{DB: db}
	if err := stmt.Parse(model); err != nil {
		return []string{fmt.Sprintf("%T: gorm cannot parse it: %v", model, err)}
	}
	sch := stmt.Schema
	name := fmt.Sprintf("%s (table %s)", sch.Name, sch.Table)
	if only, ok := oneDialectTables[sch.Table]; ok && store.Dialect(db.Dialector.Name()) != only.dialect {
		if db.Migrator().HasTable(sch.Table) {
			return []string{name + ": the table exists, but oneDialectTables says only " + string(only.dialect) + " has it"}
		}
		return nil
	}
	if !db.Migrator().HasTable(sch.Table) {
		if !isView(db, sch.Table) {
			return []string{name + ": the table does not exist"}
		}
		return viewProblems(db, sch, name, used)
	}
	cols, err := columnsOf(db, sch.Table)
	if err != nil {
		return []string{fmt.Sprintf("%s: read columns: %v", name, err)}
	}
	byName := map[string]column{}
	var columnPKs []string
	for _, c := range cols {
		byName[c.name] = c
		_, unmapped := unmappedColumns[unmappedColumn{dialectOf(db), sch.Table, c.name}]
		if c.primaryKey && !unmapped { // a column no model maps is no model's key
			columnPKs = append(columnPKs, c.name)
		}
	}

	var problems []string
	for _, dbName := range sch.DBNames {
		f := sch.FieldsByDBName[dbName]
		col, ok := byName[dbName]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: field %s has no column %q", name, f.Name, dbName))
			continue
		}
		used[sch.Table+"."+dbName] = true
		kinds, nullableField := kindsOfField(f.FieldType)
		if kinds == nil {
			problems = append(problems, fmt.Sprintf("%s: field %s has type %s, which this test cannot compare; teach kindsOfField about it", name, f.Name, f.FieldType))
			continue
		}
		colKind := kindOfColumn(col.dbType)
		if !slices.Contains(kinds, colKind) {
			problems = append(problems, fmt.Sprintf("%s: field %s is %s but column %s is %s (%s)", name, f.Name, f.FieldType, dbName, col.dbType, colKind))
		}
		switch nullableColumn := col.nullable; {
		case nullableColumn && !nullableField:
			problems = append(problems, fmt.Sprintf("%s: column %s is nullable but field %s (%s) cannot hold NULL; make it a pointer", name, dbName, f.Name, f.FieldType))
		case !nullableColumn && nullableField:
			problems = append(problems, fmt.Sprintf("%s: column %s is NOT NULL but field %s is %s; make it a value", name, dbName, f.Name, f.FieldType))
		}
	}

	modelPKs := slices.Clone(sch.PrimaryFieldDBNames)
	slices.Sort(modelPKs)
	slices.Sort(columnPKs)
	if !slices.Equal(modelPKs, columnPKs) {
		problems = append(problems, fmt.Sprintf("%s: primary key is %v in the model but %v in the table", name, modelPKs, columnPKs))
	}
	return problems
}

// unusedColumns lists the columns of tables that no model maps and the allow-list does not explain.
func unusedColumns(t *testing.T, db *gorm.DB, dialect store.Dialect, tables []string, used map[string]bool, allowed map[unmappedColumn]bool) []string {
	t.Helper()
	var out []string
	for _, table := range tables {
		cols, err := columnsOf(db, table)
		if err != nil {
			t.Fatalf("columns of %s: %v", table, err)
		}
		for _, c := range cols {
			key := unmappedColumn{dialect, table, c.name}
			if _, ok := unmappedColumns[key]; ok {
				allowed[key] = true
				continue
			}
			if !used[table+"."+c.name] {
				out = append(out, fmt.Sprintf("column %s.%s is not used by any model (map it, or add it to unmappedColumns with a reason)", table, c.name))
			}
		}
	}
	return out
}

func TestModelsMatchTheMigratedSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		db := s.Gorm()
		used := map[string]bool{}
		var tables []string
		for domain, models := range domainModels {
			list := models()
			if len(list) == 0 {
				t.Errorf("%s.Models() is empty", domain)
			}
			for _, m := range list {
				for _, p := range schemaProblems(db, m, used) {
					t.Errorf("%s: %s", domain, p)
				}
				stmt := &gorm.Statement{DB: db}
				if err := stmt.Parse(m); err == nil && !slices.Contains(tables, stmt.Schema.Table) {
					tables = append(tables, stmt.Schema.Table)
				}
			}
		}
		allowed := map[unmappedColumn]bool{}
		for _, p := range unusedColumns(t, db, s.Dialect(), tables, used, allowed) {
			t.Error(p)
		}
		for key, reason := range unmappedColumns {
			if key.dialect == s.Dialect() && !allowed[key] {
				t.Errorf("unmappedColumns lists %s.%s (%s), but the table has no such column: remove the entry", key.table, key.column, reason)
			}
		}
	})
}

func TestEveryMigratedTableHasAModel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		modelled := map[string]bool{}
		for _, models := range domainModels {
			for _, m := range models() {
				stmt := &gorm.Statement{DB: s.Gorm()}
				if err := stmt.Parse(m); err != nil {
					t.Fatal(err)
				}
				modelled[stmt.Schema.Table] = true
			}
		}
		for _, table := range tables(t, s) {
			if table == "goose_db_version" || table == "schema_floor" || table == "deferred_indexes" || (s.Dialect() == store.SQLite &&
				(strings.HasPrefix(table, "entities_fts") || strings.HasPrefix(table, "runbooks_fts"))) {
				continue // schema bookkeeping (versions, floor, indexes a bulk load deferred); SQLite's full-text indexes, kept by triggers
			}
			if !modelled[table] {
				t.Errorf("table %s has no model in any domain's Models()", table)
			}
		}
	})
}

// Throwaway models that disagree with the locations table, to show the checker notices.

type modelWithExtraField struct {
	ID          int64 `gorm:"primaryKey"`
	Type        string
	Target      string
	FavColour   string
	CreatedAt   time.Time
	RefreshedAt *time.Time
}

func (modelWithExtraField) TableName() string { return "locations" }

type modelWithWrongType struct {
	ID     int64 `gorm:"primaryKey"`
	Target int64
}

func (modelWithWrongType) TableName() string { return "locations" }

type modelWithPointerForNotNull struct {
	ID     int64 `gorm:"primaryKey"`
	Target *string
}

func (modelWithPointerForNotNull) TableName() string { return "locations" }

type modelWithValueForNullable struct {
	ID          int64 `gorm:"primaryKey"`
	RefreshedAt time.Time
}

func (modelWithValueForNullable) TableName() string { return "locations" }

type modelWithWrongPrimaryKey struct {
	EntityID int64 `gorm:"primaryKey;autoIncrement:false"`
	Tag      string
}

func (modelWithWrongPrimaryKey) TableName() string { return "entity_tags" }

type modelWithoutTable struct {
	ID int64 `gorm:"primaryKey"`
}

func (modelWithoutTable) TableName() string { return "no_such_table" }

type modelWithNullString struct {
	ID      int64 `gorm:"primaryKey"`
	Message sql.NullString
}

func (modelWithNullString) TableName() string { return "locations" }

type goodPartialModel struct {
	ID          int64 `gorm:"primaryKey"`
	Target      string
	EntityCount int
	RefreshedAt *time.Time
	CreatedAt   time.Time
	Ignored     string `gorm:"-"`
}

func (goodPartialModel) TableName() string { return "locations" }

func TestSchemaCheckerReportsMismatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		tests := []struct {
			name  string
			model any
			want  string // part of the one problem expected; "" = no problem
		}{
			{"a field without a column", &modelWithExtraField{}, `field FavColour has no column "fav_colour"`},
			{"a field of another type", &modelWithWrongType{}, "field Target is int64 but column target is"},
			{"a pointer for a NOT NULL column", &modelWithPointerForNotNull{}, "column target is NOT NULL but field Target is *string"},
			{"a value for a nullable column", &modelWithValueForNullable{}, "column refreshed_at is nullable but field RefreshedAt"},
			{"a different primary key", &modelWithWrongPrimaryKey{}, "primary key is [entity_id] in the model but [entity_id tag] in the table"},
			{"a table that does not exist", &modelWithoutTable{}, "the table does not exist"},
			{"sql.NullString for a NOT NULL column", &modelWithNullString{}, "column message is NOT NULL but field Message is sql.NullString"},
			{"a model of a subset of the columns", &goodPartialModel{}, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := schemaProblems(s.Gorm(), tt.model, map[string]bool{})
				switch {
				case tt.want == "" && len(got) != 0:
					t.Errorf("problems %q, want none", got)
				case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
					t.Errorf("problems %q, want exactly one containing %q", got, tt.want)
				}
			})
		}

		t.Run("a column no model uses", func(t *testing.T) {
			used := map[string]bool{}
			if p := schemaProblems(s.Gorm(), &goodPartialModel{}, used); len(p) != 0 {
				t.Fatal(p)
			}
			got := unusedColumns(t, s.Gorm(), s.Dialect(), []string{"locations"}, used, map[unmappedColumn]bool{})
			want := "column locations.git_ref is not used by any model"
			if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, want) }) {
				t.Errorf("unused columns %q, want one containing %q", got, want)
			}
			if slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, "locations.target ") }) {
				t.Errorf("unused columns %q name locations.target, which the model maps", got)
			}
		})
	})
}

// dialectOf is the dialect of db, as unmappedColumns names it.
func dialectOf(db *gorm.DB) store.Dialect {
	if db.Dialector.Name() == "sqlite" {
		return store.SQLite
	}
	return store.Postgres
}
