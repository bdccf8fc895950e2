// Command shapes times each kind of catalog request once at a time against a running Portside:
// whole entities, relation lists, pages in every order, filters of every field, facets and text
// searches, each sent -runs times in a row and reported with its answer's size. The load driver
// (bench/load) measures throughput of a few operations over many values; this is the other
// check, that no request shape is slow on a given catalog (a generated one of any shape, e.g.
// one owner of everything: `gencatalog -groups 1 -systems 1`). Run it against a server with its
// caches off (`--response-cache-size 0`, `PORTSIDE_CATALOG_CACHE_SIZE=0`) to time the database
// paths.
//
//	go run ./bench/shapes -url http://127.0.0.1:18181/graphql -token T -catalog DIR
//
// An answer with GraphQL errors is reported with them and makes the command exit 1.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/portside-dev/portside/bench/benchcat"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "shapes:", err)
		}
		os.Exit(1)
	}
}

// whole is every field of an entity, as Backstage's tooling asks for it.
const whole = benchcat.WholeEntity

// request is one request shape: a GraphQL document and its variables.
type request struct {
	name string
	doc  string
	vars map[string]any
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("shapes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:18181/graphql", "the server's GraphQL endpoint")
	token := fs.String("token", "", "an API token with the read scope (portside token create --scopes read)")
	dir := fs.String("catalog", "", "the generated catalog's directory (its queries.json names the values)")
	runs := fs.Int("runs", 3, "times each request is sent in a row")
	timeout := fs.Duration("timeout", 2*time.Minute, "the longest a request may take")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *token == "" || *dir == "" || *runs < 1 {
		return errors.New("-token and -catalog are required, and -runs must be at least 1")
	}
	q, err := benchcat.ReadQueries(*dir)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: *timeout}
	failed := false
	fmt.Fprintf(stdout, "%-36s %s  %10s\n", "request", strings.Repeat("      ms", *runs), "bytes")
	for _, r := range requests(q) {
		var times []string
		var size int
		var gqlErrors json.RawMessage
		for range *runs {
			took, body, err := send(client, *url, *token, r)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			times = append(times, fmt.Sprintf("%8.1f", float64(took.Microseconds())/1000))
			size = len(body)
			var answer struct{ Errors json.RawMessage }
			if err := json.Unmarshal(body, &answer); err != nil {
				return fmt.Errorf("%s: the answer is not JSON: %w", r.name, err)
			}
			gqlErrors = answer.Errors
		}
		line := fmt.Sprintf("%-36s %s  %10d", r.name, strings.Join(times, ""), size)
		if len(gqlErrors) > 0 && string(gqlErrors) != "null" {
			failed = true
			line += "  errors: " + string(gqlErrors)
		}
		fmt.Fprintln(stdout, line)
	}
	if failed {
		return errors.New("some answers carried errors")
	}
	return nil
}

// send posts r and returns how long the whole answer took to arrive, and the answer.
func send(client *http.Client, url, token string, r request) (time.Duration, []byte, error) {
	body, err := json.Marshal(map[string]any{"query": r.doc, "variables": r.vars})
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		return 0, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, nil, fmt.Errorf("status %s: %.300s", resp.Status, data)
	}
	return took, data, nil
}

// operation is a query of selection with vars, each declared a String!.
func operation(name, selection string, vars map[string]any) request {
	var params []string
	for k := range vars {
		params = append(params, "$"+k+":String!")
	}
	slices.Sort(params)
	decl := ""
	if len(params) > 0 {
		decl = "(" + strings.Join(params, ",") + ")"
	}
	return request{name, "query" + decl + selection, vars}
}

// requests are the shapes timed: the catalog's first owner and component, its system, and a
// tenth of its search words plus one-letter and two-word searches.
func requests(q *benchcat.Queries) []request {
	owner, component := q.Owners[0], q.Components[0]
	ref := func(name, fields, value string) request {
		return request{name, "query($r:String!){ entity(ref:$r){ " + fields + " } }", map[string]any{"r": value}}
	}
	page := func(name, filter, order string, vars map[string]any) request {
		if order != "" {
			order = ", orderBy:" + order
		}
		return operation(name, "{ entities(filter:"+filter+order+", first:50){ totalCount nodes { ref name title } } }", vars)
	}
	facets := func(name, filter string, vars map[string]any) request {
		return operation(name, "{ facets(filter:"+filter+", fields:[KIND, TYPE, LIFECYCLE, OWNER, TAG, SYSTEM, NAMESPACE]){ field values { value count } } }", vars)
	}
	o := map[string]any{"o": owner}
	list := []request{
		ref("entity by ref", "ref name title ... on Component { owner { ref name } system { ref name } } relations { type targetRef }", component),
		ref("entity by ref, whole", whole, component),
		ref("owner, whole", whole, owner),
		ref("owner's relations(first: 1000)", "relations(first: 1000) { type targetRef target { ref name } }", owner),
		ref("owner's ownerOf(1000) by type", `relations(type: "ownerOf", first: 1000) { targetRef target { name } }`, owner),
		page("owner's components", `{owners:[$o], kinds:["Component"]}`, "", o),
		page("owner's, by name descending", `{owners:[$o]}`, "{field: NAME, direction: DESC}", o),
		page("owner's, by update time", `{owners:[$o]}`, "{field: UPDATED_AT}", o),
		page("owner's, by kind descending", `{owners:[$o]}`, "{field: KIND, direction: DESC}", o),
		page("owner's and below", `{owners:[$o], includeDescendantGroups: true}`, "", o),
		page("whole catalog", `{}`, "", nil),
		page("whole catalog by update, desc", `{}`, "{field: UPDATED_AT, direction: DESC}", nil),
		page("users", `{kinds:["User"]}`, "", nil),
		page("tag java", `{tags:["java"]}`, "", nil),
		page("annotation present", `{annotations:[{key:"backstage.io/techdocs-ref"}]}`, "", nil),
		page("type and lifecycle", `{types:["service"], lifecycles:["production"]}`, "", nil),
		page("nothing matches", `{owners:["group:default/nobody-at-all"]}`, "", nil),
		facets("facets, whole catalog", `{}`, nil),
		facets("facets, components", `{kinds:["Component"]}`, nil),
		facets("facets, owner's", `{owners:[$o]}`, o),
		facets("facets, tag java", `{tags:["java"]}`, nil),
		facets("facets, type and lifecycle", `{types:["service"], lifecycles:["production"]}`, nil),
	}
	words := []string{"a", "e", "zz"}
	for i, w := range q.SearchWords {
		if i%10 == 0 {
			words = append(words, w)
		}
	}
	if len(q.SearchWords) > 1 {
		words = append(words, q.SearchWords[0]+" "+q.SearchWords[1])
	}
	for _, w := range words {
		list = append(list, page("search "+w, `{text:$w}`, "", map[string]any{"w": w}))
	}
	for _, w := range []string{"a", q.SearchWords[0]} {
		vars := map[string]any{"w": w, "o": owner}
		list = append(list,
			page("search "+w+", owner's", `{text:$w, owners:[$o]}`, "", vars),
			page("search "+w+", by update time", `{text:$w}`, "{field: UPDATED_AT}", map[string]any{"w": w}),
			facets("facets, search "+w, `{text:$w}`, map[string]any{"w": w}),
		)
	}
	return list
}
