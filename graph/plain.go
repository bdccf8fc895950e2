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

// gqlgenEntities is true only in tests that compare the direct rendering of plain entities
// against gqlgen's.
var gqlgenEntities atomic.Bool

// plainRendered counts the entities plainEntity rendered, for tests.
var plainRendered atomic.Int64

// plainEntity renders an entity whose selection holds only its plain fields (plainFields: the
// model's getters of its own columns: no resolver, no arguments, no directive of the schema's, no
// error) in one pass, as _Facet renders facets. gqlgen resolves every field of every entity on
// its own (a field context and its child-error value, a context, the middleware chain, a boxed
// result, a field set with its map of written aliases): for an owner's page of 50 entities
// showing ref, name and title, a fifth of the server's CPU with every cache off, and 1,200 of
// its allocations. The page's rows are the same and so are the getters called; what is skipped
// is the machinery around them. The selection is the one gqlgen collected (aliases, __typename,
// fragments, @include/@skip applied by graphql.CollectFields as the generated code applies them).
// Anything else (a relation, a field with arguments, a deferred field, an entity type or field
// not listed, a Time that would be null) returns false and gqlgen renders the entity, as it does
// when the fields would pass the operation's field budget (budget.go), which then refuses as
// before; otherwise the fields written are counted in the budget as gqlgen would count them.
func (ec *executionContext) plainEntity(ctx context.Context, sel ast.SelectionSet, obj model.Entity) (graphql.Marshaler, bool) {
	if obj == nil || gqlgenEntities.Load() {
		return nil, false
	}
	t, ok := plainTypes[typeOf(obj)]
	if !ok {
		return nil, false
	}
	fields := graphql.CollectFields(ec.OperationContext, sel, t.implementors)
	writers := make([]plainField, len(fields))
	resolved := int64(0) // the fields gqlgen would resolve through the middleware
	for i, f := range fields {
		if len(f.Deferrables) > 0 || len(f.Arguments) > 0 {
			return nil, false
		}
		if f.Name == "__typename" {
			continue
		}
		w, ok := t.fields[f.Name]
		if !ok || (w.null != nil && w.null(obj)) {
			return nil, false
		}
		writers[i] = w
		resolved++
	}
	if !spendFields(ctx, resolved) {
		return nil, false
	}
	plainRendered.Add(1)
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

// plainField writes one field of an entity as the generated code renders its value; null, when
// set, says the value would be null where the schema does not allow it (a zero Time), which
// gqlgen reports as an error: such an entity is left to gqlgen.
type plainField struct {
	write func(w io.Writer, e model.Entity)
	null  func(e model.Entity) bool
}

// plainType is an entity type's GraphQL name, the implementors gqlgen collects its fields with,
// and its plain fields.
type plainType struct {
	name         string
	implementors []string
	fields       map[string]plainField
}

// entityType is the type of the GraphQL object behind each model type (model.WrapEntity's).
type entityType int

const (
	otherType entityType = iota
	componentType
	apiType
	systemType
	domainType
	resourceType
	groupType
	userType
	locationEntityType
)

func typeOf(e model.Entity) entityType {
	switch e.(type) {
	case *model.Component:
		return componentType
	case *model.API:
		return apiType
	case *model.System:
		return systemType
	case *model.Domain:
		return domainType
	case *model.Resource:
		return resourceType
	case *model.Group:
		return groupType
	case *model.User:
		return userType
	case *model.LocationEntity:
		return locationEntityType
	}
	return otherType
}

// plainTypes lists, for each entity type, the fields the generated code resolves by calling a
// getter of the model and marshalling its String, String!, [String!]! or Time! answer, with no
// field directive in the schema. TestPlainFieldsAreTheGeneratedGetters holds the list to the
// generated code; TestPlainEntitiesRenderTheBytesGqlgenRenders holds the bytes to gqlgen's.
var plainTypes = map[entityType]plainType{
	componentType: {"Component", componentImplementors, with(baseFields[*model.Component](), map[string]plainField{
		"type": text((*model.Component).Type), "lifecycle": text((*model.Component).Lifecycle),
		"ownerRef": text((*model.Component).OwnerRef), "systemRef": optionalText((*model.Component).SystemRef),
	})},
	apiType: {"API", aPIImplementors, with(baseFields[*model.API](), map[string]plainField{
		"type": text((*model.API).Type), "lifecycle": text((*model.API).Lifecycle),
		"ownerRef": text((*model.API).OwnerRef), "systemRef": optionalText((*model.API).SystemRef),
	})},
	systemType: {"System", systemImplementors, with(baseFields[*model.System](), map[string]plainField{
		"type": optionalText((*model.System).Type), "ownerRef": text((*model.System).OwnerRef),
	})},
	domainType: {"Domain", domainImplementors, with(baseFields[*model.Domain](), map[string]plainField{
		"type": optionalText((*model.Domain).Type), "ownerRef": text((*model.Domain).OwnerRef),
	})},
	resourceType: {"Resource", resourceImplementors, with(baseFields[*model.Resource](), map[string]plainField{
		"type": text((*model.Resource).Type), "ownerRef": text((*model.Resource).OwnerRef),
		"systemRef": optionalText((*model.Resource).SystemRef),
	})},
	groupType: {"Group", groupImplementors, with(baseFields[*model.Group](), map[string]plainField{
		"type": text((*model.Group).Type),
	})},
	userType:           {"User", userImplementors, baseFields[*model.User]()},
	locationEntityType: {"LocationEntity", locationEntityImplementors, with(baseFields[*model.LocationEntity](), map[string]plainField{"type": optionalText((*model.LocationEntity).Type)})},
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
		"id":          text(T.ID),
		"ref":         text(T.Ref),
		"apiVersion":  text(T.APIVersion),
		"kind":        text(T.Kind),
		"namespace":   text(T.Namespace),
		"name":        text(T.Name),
		"title":       optionalText(T.Title),
		"description": optionalText(T.Description),
		"tags":        texts(T.Tags),
		"source":      text(T.Source),
		"createdAt":   timestamp(T.CreatedAt),
		"updatedAt":   timestamp(T.UpdatedAt),
	}
}

func with(base, more map[string]plainField) map[string]plainField {
	for k, v := range more {
		base[k] = v
	}
	return base
}

// text is a String! field (marshalNString2string).
func text[T model.Entity](get func(T) string) plainField {
	return plainField{write: func(w io.Writer, e model.Entity) { graphql.MarshalString(get(e.(T))).MarshalGQL(w) }}
}

// optionalText is a String field (marshalOString2ᚖstring): null for nil.
func optionalText[T model.Entity](get func(T) *string) plainField {
	return plainField{write: func(w io.Writer, e model.Entity) {
		if s := get(e.(T)); s != nil {
			graphql.MarshalString(*s).MarshalGQL(w)
			return
		}
		_, _ = io.WriteString(w, "null")
	}}
}

// texts is a [String!]! field (marshalNString2ᚕstringᚄ): an array, empty for a nil list, as
// gqlgen renders one.
func texts[T model.Entity](get func(T) []string) plainField {
	return plainField{write: func(w io.Writer, e model.Entity) {
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
func timestamp[T model.Entity](get func(T) time.Time) plainField {
	return plainField{
		write: func(w io.Writer, e model.Entity) { model.MarshalTime(get(e.(T))).MarshalGQL(w) },
		null:  func(e model.Entity) bool { return get(e.(T)).IsZero() },
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
	plainRendered.Add(1)
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
