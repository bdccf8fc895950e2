package graph

import (
	"context"
	"io"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/portside-dev/portside/graph/model"
)

// gqlgenEntities is true only in tests that compare the direct rendering of plain entities and
// relations against gqlgen's.
var gqlgenEntities atomic.Bool

// plainRendered, set only by tests, is told of each entity ("entity") and relation ("relation")
// rendered in one pass. A hook, not a counter: every request would write a counter's one cache
// line from every core.
var plainRendered atomic.Pointer[func(what string)]

func notePlain(what string) {
	if f := plainRendered.Load(); f != nil {
		(*f)(what)
	}
}

// plainEntity renders an entity whose selection holds only its plain fields (plainType.fields:
// getters of the model, no resolver, no arguments, no directive of the schema's, no error) in
// one pass, as _Facet renders facets. gqlgen resolves every field of every entity on its own (a
// field context and its child-error value, a context, the middleware chain, a boxed result, a
// field set with its map of written aliases): for an owner's page of 50 entities showing ref,
// name and title, about a fifth of the server's CPU with every cache off, and a third of what a
// request allocates (in process on SQLite: 6,051 → 4,051 allocations, 285 → 195 kB). The page's
// rows are the same and so are the getters called; what is skipped is the machinery around them.
// The selection is the one gqlgen collected (aliases, __typename, fragments, @include/@skip
// applied by graphql.CollectFields as the generated code applies them). Anything else (a
// relation, a field with arguments, a deferred field, an entity type or field not listed, a Time
// that would be null) returns false and gqlgen renders the entity, as it does when the fields
// would exceed the operation's field budget (budget.go), which then refuses as before; otherwise
// the fields written are counted in the budget as gqlgen would count them (each but
// __typename). The getters run when the answer is written, past gqlgen's recovery of a field's
// panic: they read fields of the model and cannot fail.
func (ec *executionContext) plainEntity(ctx context.Context, sel ast.SelectionSet, obj model.Entity) (graphql.Marshaler, bool) {
	if gqlgenEntities.Load() {
		return nil, false
	}
	t := plainTypeOf(obj)
	if t == nil {
		return nil, false
	}
	fields := graphql.CollectFields(ec.OperationContext, sel, t.implementors)
	resolved := int64(0) // the fields gqlgen would resolve through the middleware
	for _, f := range fields {
		if len(f.Deferrables) > 0 || len(f.Arguments) > 0 {
			return nil, false
		}
		if f.Name == "__typename" {
			continue
		}
		w, ok := t.fields[f.Name]
		if !ok || (w.isNull != nil && w.isNull(obj)) {
			return nil, false
		}
		resolved++
	}
	if !spendFields(ctx, resolved) {
		return nil, false
	}
	writers := make([]plainField, len(fields)) // only now: a selection that is not plain costs nothing more
	for i, f := range fields {
		writers[i] = t.fields[f.Name]
	}
	notePlain("entity")
	return graphql.WriterFunc(func(w io.Writer) {
		writeFields(w, fields, func(w io.Writer, i int) {
			if fields[i].Name == "__typename" {
				graphql.MarshalString(t.name).MarshalGQL(w)
				return
			}
			writers[i].write(w, obj)
		})
	}), true
}

// plainField writes one field of an entity as the generated code renders its value. getter
// names the model's method the generated code calls for the field (held to it by
// TestPlainFieldsAreTheGeneratedGetters); isNull, when set, says the value would be null where
// the schema does not allow it (a zero Time), which gqlgen reports as an error: such an entity
// is left to gqlgen.
type plainField struct {
	getter string
	write  func(w io.Writer, e model.Entity)
	isNull func(e model.Entity) bool
}

// plainType is an entity type's GraphQL name, the implementors gqlgen collects its fields with,
// and its plain fields: those the generated code resolves by calling a getter of the model and
// marshalling its ID!, String, String!, [String!]! or Time! answer, with no field directive in
// the schema. TestPlainFieldsAreTheGeneratedGetters holds the lists to the generated code;
// TestPlainEntitiesRenderTheBytesGqlgenRenders holds the bytes to gqlgen's.
type plainType struct {
	name         string
	implementors []string
	fields       map[string]plainField
}

var (
	plainComponent = &plainType{"Component", componentImplementors, with(baseFields[*model.Component](), map[string]plainField{
		"type": text("Type", (*model.Component).Type), "lifecycle": text("Lifecycle", (*model.Component).Lifecycle),
		"ownerRef": text("OwnerRef", (*model.Component).OwnerRef), "systemRef": optionalText("SystemRef", (*model.Component).SystemRef),
	})}
	plainAPI = &plainType{"API", aPIImplementors, with(baseFields[*model.API](), map[string]plainField{
		"type": text("Type", (*model.API).Type), "lifecycle": text("Lifecycle", (*model.API).Lifecycle),
		"ownerRef": text("OwnerRef", (*model.API).OwnerRef), "systemRef": optionalText("SystemRef", (*model.API).SystemRef),
	})}
	plainSystem = &plainType{"System", systemImplementors, with(baseFields[*model.System](), map[string]plainField{
		"type": optionalText("Type", (*model.System).Type), "ownerRef": text("OwnerRef", (*model.System).OwnerRef),
	})}
	plainDomain = &plainType{"Domain", domainImplementors, with(baseFields[*model.Domain](), map[string]plainField{
		"type": optionalText("Type", (*model.Domain).Type), "ownerRef": text("OwnerRef", (*model.Domain).OwnerRef),
	})}
	plainResource = &plainType{"Resource", resourceImplementors, with(baseFields[*model.Resource](), map[string]plainField{
		"type": text("Type", (*model.Resource).Type), "ownerRef": text("OwnerRef", (*model.Resource).OwnerRef),
		"systemRef": optionalText("SystemRef", (*model.Resource).SystemRef),
	})}
	plainGroup = &plainType{"Group", groupImplementors, with(baseFields[*model.Group](), map[string]plainField{
		"type": text("Type", (*model.Group).Type),
	})}
	plainUser           = &plainType{"User", userImplementors, baseFields[*model.User]()}
	plainLocationEntity = &plainType{"LocationEntity", locationEntityImplementors, with(baseFields[*model.LocationEntity](), map[string]plainField{
		"type": optionalText("Type", (*model.LocationEntity).Type),
	})}

	// plainTypes lists them all, for tests.
	plainTypes = []*plainType{plainComponent, plainAPI, plainSystem, plainDomain, plainResource, plainGroup, plainUser, plainLocationEntity}
)

// plainTypeOf is the plain fields of e's GraphQL type (model.WrapEntity's types), nil for a nil
// entity or a type not listed.
func plainTypeOf(e model.Entity) *plainType {
	switch x := e.(type) {
	case *model.Component:
		return ifNotNil(x != nil, plainComponent)
	case *model.API:
		return ifNotNil(x != nil, plainAPI)
	case *model.System:
		return ifNotNil(x != nil, plainSystem)
	case *model.Domain:
		return ifNotNil(x != nil, plainDomain)
	case *model.Resource:
		return ifNotNil(x != nil, plainResource)
	case *model.Group:
		return ifNotNil(x != nil, plainGroup)
	case *model.User:
		return ifNotNil(x != nil, plainUser)
	case *model.LocationEntity:
		return ifNotNil(x != nil, plainLocationEntity)
	}
	return nil
}

func ifNotNil(notNil bool, t *plainType) *plainType {
	if notNil {
		return t
	}
	return nil
}

// entityGetters are the getters every entity type shares (model's base).
type entityGetters interface {
	model.Entity
	ID() string
	Ref() string
	APIVersion() string
	Kind() string
	Namespace() string
	Name() string
	Title() *string
	Description() *string
	Tags() []string
	Source() string
	CreatedAt() time.Time
	UpdatedAt() time.Time
}

func baseFields[T entityGetters]() map[string]plainField {
	return map[string]plainField{
		"id":          text("ID", T.ID),
		"ref":         text("Ref", T.Ref),
		"apiVersion":  text("APIVersion", T.APIVersion),
		"kind":        text("Kind", T.Kind),
		"namespace":   text("Namespace", T.Namespace),
		"name":        text("Name", T.Name),
		"title":       optionalText("Title", T.Title),
		"description": optionalText("Description", T.Description),
		"tags":        texts("Tags", T.Tags),
		"source":      text("Source", T.Source),
		"createdAt":   timestamp("CreatedAt", T.CreatedAt),
		"updatedAt":   timestamp("UpdatedAt", T.UpdatedAt),
	}
}

func with(base, more map[string]plainField) map[string]plainField {
	for k, v := range more {
		base[k] = v
	}
	return base
}

// text is a String! field (marshalNString2string).
func text[T model.Entity](getter string, get func(T) string) plainField {
	return plainField{getter: getter, write: func(w io.Writer, e model.Entity) { graphql.MarshalString(get(e.(T))).MarshalGQL(w) }}
}

// optionalText is a String field (marshalOString2ᚖstring): null for nil.
func optionalText[T model.Entity](getter string, get func(T) *string) plainField {
	return plainField{getter: getter, write: func(w io.Writer, e model.Entity) {
		if s := get(e.(T)); s != nil {
			graphql.MarshalString(*s).MarshalGQL(w)
			return
		}
		_, _ = io.WriteString(w, "null")
	}}
}

// texts is a [String!]! field (marshalNString2ᚕstringᚄ): an array, empty for a nil list, as
// gqlgen renders one.
func texts[T model.Entity](getter string, get func(T) []string) plainField {
	return plainField{getter: getter, write: func(w io.Writer, e model.Entity) {
		_, _ = io.WriteString(w, "[")
		for i, s := range get(e.(T)) {
			if i > 0 {
				_, _ = io.WriteString(w, ",")
			}
			graphql.MarshalString(s).MarshalGQL(w)
		}
		_, _ = io.WriteString(w, "]")
	}}
}

// timestamp is a Time! field (marshalNTime2timeᚐTime): a zero time is null, an error there.
func timestamp[T model.Entity](getter string, get func(T) time.Time) plainField {
	return plainField{
		getter: getter,
		write:  func(w io.Writer, e model.Entity) { model.MarshalTime(get(e.(T))).MarshalGQL(w) },
		isNull: func(e model.Entity) bool { return get(e.(T)).IsZero() },
	}
}

// _Relation renders a relation whose selection holds only its type and targetRef (and
// __typename) in one pass, as plainEntity renders entities: an entity's relations are the
// longest list of an entity page, and gqlgen resolved each of their two strings through the
// whole field machinery. A selection of its target, or anything deferred, goes to gqlgen's
// generated _Relation, renamed _relationUncached by graph/internal/genpatch.
func (ec *executionContext) _Relation(ctx context.Context, sel ast.SelectionSet, obj *model.Relation) graphql.Marshaler {
	if obj == nil || gqlgenEntities.Load() {
		return ec._relationUncached(ctx, sel, obj)
	}
	fields := graphql.CollectFields(ec.OperationContext, sel, relationImplementors)
	resolved := int64(0)
	for _, f := range fields {
		if len(f.Deferrables) > 0 {
			return ec._relationUncached(ctx, sel, obj)
		}
		switch f.Name {
		case "__typename":
		case "type", "targetRef":
			resolved++
		default:
			return ec._relationUncached(ctx, sel, obj)
		}
	}
	if !spendFields(ctx, resolved) {
		return ec._relationUncached(ctx, sel, obj)
	}
	notePlain("relation")
	return graphql.WriterFunc(func(w io.Writer) {
		writeFields(w, fields, func(w io.Writer, i int) {
			switch fields[i].Name {
			case "__typename":
				_, _ = io.WriteString(w, `"Relation"`)
			case "type":
				graphql.MarshalString(obj.Type).MarshalGQL(w)
			case "targetRef":
				graphql.MarshalString(obj.TargetRef).MarshalGQL(w)
			}
		})
	})
}
