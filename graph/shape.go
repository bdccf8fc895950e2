package graph

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/portside-dev/portside/internal/sizedlru"
)

// maxSameNameFields bounds how often one response name may be selected in one selection set,
// fragments spread. gqlparser's OverlappingFieldsCanBeMerged compares every pair of fields with
// the same name: 14,000 `totalCount` in one selection (within the token limit) cost it 67 s.
// Real documents repeat a name only where fragments share it (id, name), a few times.
const maxSameNameFields = 50

// checkShape walks each selection set once, each fragment's top-level names once.
func checkShape(doc *ast.QueryDocument, maxComplexity int) error {
	frags := map[string]*ast.FragmentDefinition{}
	for _, f := range doc.Fragments {
		frags[f.Name] = f
	}
	c := shapeChecker{frags: frags, names: map[string]map[string]int{}, expanded: map[string]int{}}
	for _, op := range doc.Operations {
		if maxComplexity > 0 {
			if n := c.expand(op.SelectionSet, maxComplexity); n > maxComplexity {
				return &documentLimitError{"COMPLEXITY_LIMIT_EXCEEDED", fmt.Sprintf(
					"operation selects more than %d fields once its fragments are spread, which exceeds the complexity limit of %d", maxComplexity, maxComplexity)}
			}
		}
		if err := c.sets(op.SelectionSet); err != nil {
			return err
		}
	}
	for _, f := range doc.Fragments {
		if err := c.sets(f.SelectionSet); err != nil {
			return err
		}
	}
	return nil
}

type shapeChecker struct {
	frags    map[string]*ast.FragmentDefinition
	names    map[string]map[string]int // fragment -> response name -> times at its top level
	expanded map[string]int            // fragment -> fields once spread
}

// sets checks set and every selection set under it (not into fragments: they are checked once
// on their own).
func (c *shapeChecker) sets(set ast.SelectionSet) error {
	counts := map[string]int{}
	c.collect(set, counts, map[string]bool{})
	for name, n := range counts {
		if n > maxSameNameFields {
			return &documentLimitError{"DOCUMENT_TOO_LARGE", fmt.Sprintf(
				"the document selects %q %d times in one selection set; at most %d are accepted", name, n, maxSameNameFields)}
		}
	}
	for _, sel := range set {
		var sub ast.SelectionSet
		switch s := sel.(type) {
		case *ast.Field:
			sub = s.SelectionSet
		case *ast.InlineFragment:
			sub = s.SelectionSet
		}
		if len(sub) > 0 {
			if err := c.sets(sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// collect counts the response names of set's top level, through inline fragments and each
// distinct fragment spread (the validator compares a fragment spread twice only once).
func (c *shapeChecker) collect(set ast.SelectionSet, counts map[string]int, spread map[string]bool) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			name := s.Alias
			if name == "" {
				name = s.Name
			}
			counts[name]++
		case *ast.InlineFragment:
			c.collect(s.SelectionSet, counts, spread)
		case *ast.FragmentSpread:
			if spread[s.Name] {
				continue
			}
			spread[s.Name] = true
			for name, n := range c.fragmentNames(s.Name) {
				counts[name] += n
			}
		}
	}
}

func (c *shapeChecker) fragmentNames(name string) map[string]int {
	if m, ok := c.names[name]; ok {
		return m
	}
	m := map[string]int{}
	c.names[name] = m // a cycle (refused by validation) counts what was seen so far
	if f := c.frags[name]; f != nil {
		c.collect(f.SelectionSet, m, map[string]bool{name: true})
	}
	return m
}

// expand counts set's fields with fragments spread, stopping past limit.
func (c *shapeChecker) expand(set ast.SelectionSet, limit int) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			n += 1 + c.expand(s.SelectionSet, limit)
		case *ast.InlineFragment:
			n += c.expand(s.SelectionSet, limit)
		case *ast.FragmentSpread:
			count, done := c.expanded[s.Name]
			if !done {
				c.expanded[s.Name] = 0
				if f := c.frags[s.Name]; f != nil {
					count = c.expand(f.SelectionSet, limit)
				}
				c.expanded[s.Name] = count
			}
			n += count
		}
		if n > limit {
			return limit + 1
		}
	}
	return n
}

// documentGate refuses, before gqlgen parses and validates a document, what gqlgen's parser,
// validator and complexity walk pay for more than linearly: documents over the token, nesting,
// fragment and spread bounds (scanDocument), one name selected many times in one selection set,
// and operations whose fields, fragments spread, outnumber the complexity limit (checkShape). It
// is a gqlgen extension, so it holds for every transport, the WebSocket's too. It remembers the
// documents it passed, so a repeated one costs a hash; it sits behind the response cache, whose
// answers were checked when they were made.
type documentGate struct {
	maxComplexity int
	passed        *sizedlru.Cache[[sha256.Size]byte, struct{}]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*documentGate)(nil)

func newDocumentGate(maxComplexity int) *documentGate {
	return &documentGate{maxComplexity: maxComplexity, passed: sizedlru.New[[sha256.Size]byte, struct{}](1<<20, 0)}
}

func (*documentGate) ExtensionName() string                   { return "DocumentGate" }
func (*documentGate) Validate(graphql.ExecutableSchema) error { return nil }

func (g *documentGate) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query == "" {
		return nil // a persisted query's hash alone: the APQ extension before this one found nothing
	}
	key := sha256.Sum256([]byte(p.Query))
	if _, ok := g.passed.Get(key); ok {
		return nil
	}
	err := scanDocument(p.Query)
	if err == nil {
		doc, perr := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, maxDocumentTokens)
		if perr != nil {
			return nil // gqlgen reports the syntax error
		}
		err = checkShape(doc, g.maxComplexity)
	}
	if err != nil {
		reason := "GRAPHQL_PARSE_FAILED"
		if e, ok := err.(*documentLimitError); ok {
			reason = e.reason
		}
		gerr := gqlerror.Errorf("%s", err.Error())
		gerr.Extensions = map[string]any{"code": reason}
		return gerr
	}
	g.passed.Add(key, struct{}{}, sha256.Size+cacheEntryOverhead)
	return nil
}
