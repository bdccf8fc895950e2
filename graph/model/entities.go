package model

import (
	"maps"
	"slices"
	"time"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
)

// Node is anything with a global ID.
type Node interface {
	IsNode()
}

// Entity is a catalog entity of any kind, as GraphQL shows it.
type Entity interface {
	Node
	// Value is the domain entity behind the GraphQL object.
	Value() *backstage.Entity
	// Cohort is the set of entities it was loaded with, for batched relation fields.
	Cohort() *Cohort
}

// WrapEntity returns the GraphQL type for an entity's kind, or nil for nil.
func WrapEntity(e *backstage.Entity, c *Cohort) Entity {
	if e == nil {
		return nil
	}
	b := base{e: e, c: c}
	switch e.Kind {
	case backstage.KindComponent:
		return &Component{b}
	case backstage.KindAPI:
		return &API{b}
	case backstage.KindSystem:
		return &System{b}
	case backstage.KindDomain:
		return &Domain{b}
	case backstage.KindResource:
		return &Resource{b}
	case backstage.KindGroup:
		return &Group{b}
	case backstage.KindUser:
		return &User{b}
	default:
		return &LocationEntity{b}
	}
}

// WrapEntities wraps a list of entities loaded together as one cohort.
func WrapEntities(svc *catalog.Service, list []*backstage.Entity) []Entity {
	return wrapCohort(NewCohort(svc, list), list)
}

func wrapCohort(c *Cohort, list []*backstage.Entity) []Entity {
	out := make([]Entity, len(list))
	for i, e := range list {
		out[i] = WrapEntity(e, c)
	}
	return out
}

// base carries what every entity type shows; its methods are promoted to each kind's type.
type base struct {
	e *backstage.Entity
	c *Cohort
}

func (b base) IsNode()                  {}
func (b base) IsEntity()                {}
func (b base) Value() *backstage.Entity { return b.e }
func (b base) Cohort() *Cohort          { return b.c }
func (b base) ID() string               { return EncodeID(typename(b.e.Kind), b.e.Ref.String()) }
func (b base) Ref() string              { return b.e.Ref.String() }
func (b base) APIVersion() string       { return b.e.APIVersion }
func (b base) Kind() string             { return b.e.Kind }
func (b base) Namespace() string        { return b.e.Metadata.Namespace }
func (b base) Name() string             { return b.e.Metadata.Name }
func (b base) Title() *string           { return optional(b.e.Metadata.Title) }
func (b base) Description() *string     { return optional(b.e.Metadata.Description) }
func (b base) Labels() []*KeyValue      { return keyValues(b.e.Metadata.Labels) }
func (b base) Annotations() []*KeyValue { return keyValues(b.e.Metadata.Annotations) }
func (b base) Tags() []string           { return nonNil(b.e.Metadata.Tags) }
func (b base) Source() string           { return b.e.Source }
func (b base) CreatedAt() time.Time     { return b.e.CreatedAt }
func (b base) UpdatedAt() time.Time     { return b.e.UpdatedAt }

// Spec returns the spec block; an entity without one shows an empty object.
func (b base) Spec() map[string]any {
	if b.e.Spec == nil {
		return map[string]any{}
	}
	return b.e.Spec
}

// Annotation returns one annotation's value.
func (b base) Annotation(key string) *string {
	v, ok := b.e.Metadata.Annotations[key]
	if !ok {
		return nil
	}
	return &v
}

// Links returns metadata.links.
func (b base) Links() []*Link {
	out := make([]*Link, len(b.e.Metadata.Links))
	for i, l := range b.e.Metadata.Links {
		out[i] = &Link{URL: l.URL, Title: optional(l.Title), Icon: optional(l.Icon), Type: optional(l.Type)}
	}
	return out
}

// typename maps a kind to its GraphQL type name; they differ only for Location entities, whose
// name belongs to registered locations.
func typename(kind string) string {
	if kind == backstage.KindLocation {
		return "LocationEntity"
	}
	return kind
}

// KindOfTypename is the inverse of typename, for decoding global IDs.
func KindOfTypename(t string) string {
	if t == "LocationEntity" {
		return backstage.KindLocation
	}
	if t == backstage.KindLocation {
		return ""
	}
	return backstage.CanonicalKind(t)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func keyValues(m map[string]string) []*KeyValue {
	out := make([]*KeyValue, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, &KeyValue{Key: k, Value: m[k]})
	}
	return out
}

// Component is a catalog Component.
type Component struct{ base }

func (x Component) Type() string       { return x.e.Type }
func (x Component) Lifecycle() string  { return x.e.Lifecycle }
func (x Component) OwnerRef() string   { return x.e.Owner.String() }
func (x Component) SystemRef() *string { return optional(x.e.System.String()) }

// API is a catalog API.
type API struct{ base }

func (x API) Type() string       { return x.e.Type }
func (x API) Lifecycle() string  { return x.e.Lifecycle }
func (x API) OwnerRef() string   { return x.e.Owner.String() }
func (x API) SystemRef() *string { return optional(x.e.System.String()) }

// Definition is spec.definition, placeholders resolved.
func (x API) Definition() string { return x.e.SpecString("definition") }

// System is a catalog System.
type System struct{ base }

func (x System) Type() *string    { return optional(x.e.Type) }
func (x System) OwnerRef() string { return x.e.Owner.String() }

// Domain is a catalog Domain.
type Domain struct{ base }

func (x Domain) Type() *string    { return optional(x.e.Type) }
func (x Domain) OwnerRef() string { return x.e.Owner.String() }

// Resource is a catalog Resource.
type Resource struct{ base }

func (x Resource) Type() string       { return x.e.Type }
func (x Resource) OwnerRef() string   { return x.e.Owner.String() }
func (x Resource) SystemRef() *string { return optional(x.e.System.String()) }

// Group is a catalog Group.
type Group struct{ base }

func (x Group) Type() string      { return x.e.Type }
func (x Group) Profile() *Profile { return profile(x.e) }

// User is a catalog User.
type User struct{ base }

// Profile is spec.profile.
func (x User) Profile() *Profile { return profile(x.e) }

func profile(e *backstage.Entity) *Profile {
	p, ok := e.Spec["profile"].(map[string]any)
	if !ok {
		return nil
	}
	str := func(k string) *string { s, _ := p[k].(string); return optional(s) }
	return &Profile{DisplayName: str("displayName"), Email: str("email"), Picture: str("picture")}
}

// LocationEntity is a catalog entity of kind Location.
type LocationEntity struct{ base }

func (x LocationEntity) Type() *string { return optional(x.e.Type) }

// Targets lists spec.target and spec.targets.
func (x LocationEntity) Targets() []string {
	var out []string
	if t := x.e.SpecString("target"); t != "" {
		out = append(out, t)
	}
	if list, ok := x.e.Spec["targets"].([]any); ok {
		for _, t := range list {
			if s, ok := t.(string); ok {
				out = append(out, s)
			}
		}
	}
	return nonNil(out)
}

// Presence is spec.presence: required (the default) or optional.
func (x LocationEntity) Presence() string {
	if p := x.e.SpecString("presence"); p != "" {
		return p
	}
	return "required"
}
