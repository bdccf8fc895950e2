package graph

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// nulGate refuses an operation holding a NUL character (U+0000) in any string it passes: an
// argument's literal in the document, or a variable at any depth. PostgreSQL's text holds no
// NUL, so each such value failed its statement as an internal error (and an audit record
// naming it could not be written), where SQLite kept it: refused here, before any resolver,
// every input of every field is refused the same way on both databases, naming where it is.
// Invalid UTF-8 needs no gate here: the JSON decoder replaces it in a POST's body, and in a GET's
// query string (queries only) the store answers it INVALID (store.Translate).
type nulGate struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = nulGate{}

func (nulGate) ExtensionName() string                   { return "NulGate" }
func (nulGate) Validate(graphql.ExecutableSchema) error { return nil }

func (nulGate) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	where := ""
	// A literal holds a NUL only through an escape (\u0000, \u{0}): the lexer refuses the byte
	// itself. A document without one (almost every one) is not walked.
	if oc.Doc != nil && strings.Contains(oc.RawQuery, `\u`) {
		for _, op := range oc.Doc.Operations {
			if where = nulInSelections(op.SelectionSet); where != "" {
				break
			}
		}
		for _, f := range oc.Doc.Fragments {
			if where != "" {
				break
			}
			where = nulInSelections(f.SelectionSet)
		}
	}
	if where == "" {
		where = nulInValue("variables", oc.Variables)
	}
	if where == "" {
		return nil
	}
	err := gqlerror.Errorf("%s holds a NUL character (U+0000); Portside keeps no text with one", where)
	errcode.Set(err, "NUL_CHARACTER")
	return err
}

// nulInSelections names the first argument under set (fields, directives, inline fragments)
// whose literal holds a NUL, or returns "".
func nulInSelections(set ast.SelectionSet) string {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				if w := nulInLiteral(s.Alias+"("+a.Name+":)", a.Value); w != "" {
					return w
				}
			}
			if w := nulInDirectives(s.Directives); w != "" {
				return w
			}
			if w := nulInSelections(s.SelectionSet); w != "" {
				return w
			}
		case *ast.InlineFragment:
			if w := nulInDirectives(s.Directives); w != "" {
				return w
			}
			if w := nulInSelections(s.SelectionSet); w != "" {
				return w
			}
		case *ast.FragmentSpread:
			if w := nulInDirectives(s.Directives); w != "" {
				return w
			}
		}
	}
	return ""
}

func nulInDirectives(list ast.DirectiveList) string {
	for _, d := range list {
		for _, a := range d.Arguments {
			if w := nulInLiteral("@"+d.Name+"("+a.Name+":)", a.Value); w != "" {
				return w
			}
		}
	}
	return ""
}

// nulInLiteral names the part of a literal value holding a NUL, under path.
func nulInLiteral(path string, v *ast.Value) string {
	if v == nil {
		return ""
	}
	switch v.Kind {
	case ast.StringValue, ast.BlockValue:
		if strings.IndexByte(v.Raw, 0) >= 0 {
			return "the argument " + path
		}
	case ast.ListValue:
		for i, c := range v.Children {
			if w := nulInLiteral(path+"["+strconv.Itoa(i)+"]", c.Value); w != "" {
				return w
			}
		}
	case ast.ObjectValue:
		for _, c := range v.Children {
			if strings.IndexByte(c.Name, 0) >= 0 {
				return "a field name in the argument " + path
			}
			if w := nulInLiteral(path+"."+c.Name, c.Value); w != "" {
				return w
			}
		}
	}
	return ""
}

// nulInValue names the part of a decoded variable value holding a NUL (in a string or a key),
// under path, visiting keys in order so that the answer is the same every time.
func nulInValue(path string, v any) string {
	switch x := v.(type) {
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			return path
		}
	case []any:
		for i, c := range x {
			if w := nulInValue(path+"["+strconv.Itoa(i)+"]", c); w != "" {
				return w
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			if strings.IndexByte(k, 0) >= 0 {
				return "a key of " + path
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if w := nulInValue(path+"."+k, x[k]); w != "" {
				return w
			}
		}
	}
	return ""
}

// persistedQueryGate is gqlgen's automatic persisted queries with its refusals coded: a hash
// that does not match its query or an unknown version is the request's mistake (INVALID, with
// the reason PERSISTED_QUERY_INVALID), which gqlgen leaves uncoded and so was answered as an
// internal error.
type persistedQueryGate struct {
	extension.AutomaticPersistedQuery
}

func (p persistedQueryGate) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	err := p.AutomaticPersistedQuery.MutateOperationParameters(ctx, raw)
	if err != nil && err.Extensions["code"] == nil {
		err.Message = fmt.Sprintf("persisted query: %s (Portside follows Apollo's automatic persisted queries, version 1: sha256Hash is the hex SHA-256 of the query)", err.Message)
		errcode.Set(err, "PERSISTED_QUERY_INVALID")
	}
	return err
}
