package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/portside-dev/portside/bench/benchcat"
)

var queries = &benchcat.Queries{
	Components:  []string{"component:default/a"},
	Owners:      []string{"group:default/team"},
	SearchWords: []string{"pay", "api", "ledger"},
}

// Every request the tool sends is a valid operation of Portside's schema, with the variables it
// declares: a request the server refused would time an error, not a query.
func TestEveryRequestIsValidAgainstTheSchema(t *testing.T) {
	files, err := filepath.Glob("../../graph/schema/*.graphqls")
	if err != nil || len(files) == 0 {
		t.Fatalf("schema files: %v %v", files, err)
	}
	var sources []*ast.Source
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, &ast.Source{Name: f, Input: string(data)})
	}
	schema, err := gqlparser.LoadSchema(sources...)
	if err != nil {
		t.Fatal(err)
	}
	list := requests(queries)
	if len(list) < 30 {
		t.Fatalf("%d requests", len(list))
	}
	for _, r := range list {
		doc, errList := gqlparser.LoadQuery(schema, r.doc)
		if len(errList) > 0 {
			t.Errorf("%s: %v\n%s", r.name, errList, r.doc)
			continue
		}
		declared := map[string]bool{}
		for _, v := range doc.Operations[0].VariableDefinitions {
			declared[v.Variable] = true
		}
		for name := range r.vars {
			if !declared[name] {
				t.Errorf("%s: sends variable %s it does not declare", r.name, name)
			}
		}
		if len(declared) != len(r.vars) {
			t.Errorf("%s: declares %d variables, sends %d", r.name, len(declared), len(r.vars))
		}
	}
}

// An answer carrying GraphQL errors is reported on its line and fails the run; the token is sent.
func TestAnAnswerWithErrorsFailsTheRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer T" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req struct{ Query string }
		_ = json.Unmarshal(body, &req)
		if strings.Contains(req.Query, "facets") {
			_, _ = io.WriteString(w, `{"errors":[{"message":"boom"}]}`)
			return
		}
		_, _ = io.WriteString(w, `{"data":{}}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	data, _ := json.Marshal(queries)
	if err := os.WriteFile(filepath.Join(dir, "queries.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err := run([]string{"-url", srv.URL, "-token", "T", "-catalog", dir, "-runs", "2"}, &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), `errors: [{"message":"boom"}]`) || !strings.Contains(out.String(), "entity by ref") {
		t.Fatalf("err %v, output:\n%s", err, out.String())
	}
	if err := run([]string{"-url", srv.URL, "-token", "wrong", "-catalog", dir}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a refused request: %v", err)
	}
}
