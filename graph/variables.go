package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/portside-dev/portside/graph/model"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// variableTypes holds the values of an operation's variables to the GraphQL specification's
// input coercion of the built-in scalars, before anything runs. gqlparser's check of variables
// lets through what the generated code then reads leniently: the string "5" for an Int (read as
// 5), a number for a String (read as its digits), and an Int past 32 bits (refused, if at all,
// by the complexity limit's arithmetic); and it refused 5.5 for an Int as "cannot use value 0 as
// Int". Here an Int is a JSON number written without a fraction or exponent from -2^31 to
// 2^31-1 (gqlparser refuses 5.0 too), a Float any JSON number, a String a JSON string, a Boolean
// true or false, an ID a string or a whole number; input objects and lists are checked member by
// member (a single value stands for a list of one); an enum value a string naming one of its
// values (in any case: one in the wrong case is refused by the generated code, which names the
// values). Custom scalars are read by their own code.
type variableTypes struct{ schema *ast.Schema }

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = (*variableTypes)(nil)

func (*variableTypes) ExtensionName() string { return "VariableTypes" }

func (v *variableTypes) Validate(es graphql.ExecutableSchema) error {
	v.schema = es.Schema()
	return nil
}

func (v *variableTypes) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	return v.checkAll(oc.Operation, oc.Variables)
}

// checkAll checks the values of op's variables given (a value left out is gqlparser's to
// default or refuse) and returns the first fault as a validation error on the variable's path.
func (v *variableTypes) checkAll(op *ast.OperationDefinition, values map[string]any) *gqlerror.Error {
	if v.schema == nil {
		return nil
	}
	for _, def := range op.VariableDefinitions {
		value, ok := values[def.Variable]
		if !ok {
			continue
		}
		if err := v.check(def.Type, value, "$"+def.Variable, ast.Path{ast.PathName("variable"), ast.PathName(def.Variable)}, 0); err != nil {
			errcode.Set(err, errcode.ValidationFailed)
			return err
		}
	}
	return nil
}

// maxVariableDepth bounds how deep check follows nested lists and input objects: the document's
// own depth bounds the types, but a list type's value may nest arrays no type declares.
const maxVariableDepth = 64

// check says what is wrong with value as a value of type t at where (the variable's name, then
// its members, as written in messages; path, as in an error's path, as gqlparser gives it), depth
// lists and objects down, or nil.
func (v *variableTypes) check(t *ast.Type, value any, where string, path ast.Path, depth int) *gqlerror.Error {
	if value == nil || depth > maxVariableDepth {
		return nil // null is gqlparser's to allow or refuse; deeper nesting is refused by the types
	}
	if t.Elem != nil {
		list := reflect.ValueOf(value)
		if list.Kind() != reflect.Slice { // JSON's []any, or what gqlparser made of a single value
			return v.check(t.Elem, value, where, path, depth+1) // a single value coerces to a list of one
		}
		for i := range list.Len() {
			if err := v.check(t.Elem, list.Index(i).Interface(), fmt.Sprintf("%s[%d]", where, i), append(slices.Clip(path), ast.PathIndex(i)), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	def := v.schema.Types[t.NamedType]
	if def == nil {
		return nil
	}
	switch def.Kind {
	case ast.InputObject:
		object, ok := value.(map[string]any)
		if !ok {
			return nil // gqlparser refuses it
		}
		for _, field := range def.Fields {
			if member, ok := object[field.Name]; ok {
				if err := v.check(field.Type, member, where+"."+field.Name, append(slices.Clip(path), ast.PathName(field.Name)), depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	case ast.Enum:
		// gqlparser compares a variable's enum value ignoring case, and the generated code then
		// refuses a value in the wrong case, naming the values (inputError); one that names no
		// value in any case, gqlparser refused in words of its own, quoting it at any length.
		if name, ok := value.(string); !ok || !slices.ContainsFunc(def.EnumValues, func(e *ast.EnumValueDefinition) bool { return strings.EqualFold(e.Name, name) }) {
			names := make([]string, len(def.EnumValues))
			for i, e := range def.EnumValues {
				names[i] = e.Name
			}
			what := "a string naming none of them"
			if !ok {
				what = kindOf(value, t.NamedType)
			}
			err := gqlerror.Errorf("variable %s must be %s (one of %s), not %s", where, model.WithArticle(t.NamedType), strings.Join(names, ", "), what)
			err.Path = path
			return err
		}
	case ast.Scalar:
		if problem := scalarProblem(t.NamedType, value); problem != "" {
			// The value itself is never quoted: a variable may hold a secret.
			err := gqlerror.Errorf("variable %s must be %s, not %s", where, problem, kindOf(value, t.NamedType))
			err.Path = path
			return err
		}
	}
	return nil
}

// scalarProblem says what a built-in scalar's value must be when value is not that ("" when it
// is, or when the scalar is not built in).
func scalarProblem(scalar string, value any) string {
	switch scalar {
	case "Int":
		if _, ok := whole(value); !ok {
			return "an Int (a whole number from -2147483648 to 2147483647)"
		}
	case "Float":
		if _, ok := number(value); !ok {
			return "a Float (a number)"
		}
	case "String":
		if _, ok := value.(string); !ok {
			return "a String (text in quotes)"
		}
	case "Boolean":
		if _, ok := value.(bool); !ok {
			return "a Boolean (true or false)"
		}
	case "ID":
		if _, ok := value.(string); ok {
			return ""
		}
		if n, ok := number(value); !ok || n != math.Trunc(n) {
			return "an ID (text in quotes, or a whole number)"
		}
	}
	return ""
}

// number is value as a float64 when it is a JSON number (or a number a document's default gave).
func number(value any) (float64, bool) {
	switch n := value.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		return f, err == nil
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// whole is value as an Int: a number without a fraction within 32 bits. A JSON number is one
// when written without a fraction or exponent, as gqlparser reads one (it refuses 5.0).
func whole(value any) (int64, bool) {
	if n, ok := value.(json.Number); ok {
		i, err := strconv.ParseInt(string(n), 10, 32)
		return i, err == nil
	}
	f, ok := number(value)
	if !ok || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false
	}
	return int64(f), true
}

// kindOf says what kind of JSON value value is, as an error message about a value of scalar
// names it: a number given for an Int or an ID says why it is not one.
func kindOf(value any, scalar string) string {
	switch value.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	}
	if reflect.ValueOf(value).Kind() == reflect.Slice {
		return "a list"
	}
	if f, ok := number(value); ok {
		n, _ := value.(json.Number)
		switch {
		case scalar != "Int" && scalar != "ID":
			return "a number"
		case f != math.Trunc(f) || strings.ContainsAny(string(n), ".eE"):
			return "a number with a fraction or an exponent"
		default:
			return "a number beyond 32 bits"
		}
	}
	return fmt.Sprintf("a %T", value)
}
