package graph

import (
	"context"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// Every list-typed field of every object type is weighed by the complexity limit as more than one
// item, so nested lists multiply; a list field added without a weight fails here. Connection
// edges and nodes are the exception: their connection field has weighed them by its page size.
func TestEveryListFieldIsWeighed(t *testing.T) {
	cfg := Config{}
	setComplexity(&cfg.Complexity)
	es := NewExecutableSchema(cfg)
	const child = 7
	checked := 0
	for _, def := range es.Schema().Types {
		if def.Kind != ast.Object || strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			if f.Type.Elem == nil || strings.HasPrefix(f.Name, "__") {
				continue
			}
			checked++
			name := def.Name + "." + f.Name
			cost, ok := es.Complexity(context.Background(), def.Name, f.Name, child, defaultArgs(es.Schema(), f))
			switch {
			case !ok:
				t.Errorf("%s is a list with no complexity function: weigh it in setComplexity", name)
			case strings.HasSuffix(def.Name, "Connection") && (f.Name == "edges" || f.Name == "nodes"):
				if cost < 1+child {
					t.Errorf("%s costs %d, less than one item (%d)", name, cost, 1+child)
				}
			case cost < 1+2*child:
				t.Errorf("%s costs %d for items of %d: a list must weigh more than one item", name, cost, child)
			}
		}
	}
	if checked < 50 {
		t.Fatalf("checked %d list fields; the schema has more: is the walk broken?", checked)
	}
}

// Nested lists multiply: the shapes that ran for minutes cost more than any limit allows, and a
// saturated cost never wraps around to look cheap.
func TestNestedRelationListsMultiply(t *testing.T) {
	cfg := Config{}
	setComplexity(&cfg.Complexity)
	es := NewExecutableSchema(cfg)
	one, _ := es.Complexity(context.Background(), "Group", "members", 1, map[string]any{"first": 100})
	if one != 101 {
		t.Errorf("members(first: 100) { name } costs %d, want 101", one)
	}
	cost := 1
	for range 40 {
		cost, _ = es.Complexity(context.Background(), "User", "memberOf", cost, map[string]any{"first": 1000})
	}
	if cost <= 0 || cost < 1<<60 {
		t.Errorf("forty nested lists of 1000 cost %d; want a saturated, positive cost", cost)
	}
}

// defaultArgs are a field's arguments as the smallest query has them: defaults where there are,
// and two values for required lists of an enum (Query.facets' fields).
func defaultArgs(schema *ast.Schema, f *ast.FieldDefinition) map[string]any {
	args := map[string]any{}
	for _, a := range f.Arguments {
		if a.DefaultValue != nil {
			v, err := a.DefaultValue.Value(nil)
			if err == nil {
				args[a.Name] = v
			}
			continue
		}
		if a.Type.NonNull && a.Type.Elem != nil {
			if enum := schema.Types[a.Type.Elem.Name()]; enum != nil && enum.Kind == ast.Enum && len(enum.EnumValues) >= 2 {
				args[a.Name] = []any{enum.EnumValues[0].Name, enum.EnumValues[1].Name}
			}
		}
	}
	return args
}

// A meeting report or a task export reads and writes a whole project's table: aliases of it in
// one request are bounded by the complexity limit (20,000 by default: ten of them), not by the
// response's size after each was built.
func TestAWholeTableCostsWhatItReads(t *testing.T) {
	cfg := Config{}
	setComplexity(&cfg.Complexity)
	es := NewExecutableSchema(cfg)
	for _, field := range []string{"meetingReport", "exportTasks"} {
		cost, ok := es.Complexity(context.Background(), "Query", field, 0, map[string]any{"project": "p"})
		if !ok || cost != tableCost {
			t.Errorf("%s costs %d (%v), want %d", field, cost, ok, tableCost)
		}
	}
}
