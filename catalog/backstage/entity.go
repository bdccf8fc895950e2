// Package backstage is the catalog's entity model, in Backstage's format: entities (apiVersion,
// kind, metadata, spec), their references and relations, and the parser and validator of
// catalog-info.yaml files, whose errors name file, document, line and field. It is pure: no
// database, no network, no disk (a Resolver reads what placeholders point at). Package catalog
// stores, ingests and queries these entities.
package backstage

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// The entity kinds Portside understands, in their canonical spelling.
const (
	KindComponent = "Component"
	KindAPI       = "API"
	KindSystem    = "System"
	KindDomain    = "Domain"
	KindResource  = "Resource"
	KindGroup     = "Group"
	KindUser      = "User"
	KindLocation  = "Location"
)

// Kinds lists the supported kinds in their canonical spelling.
var Kinds = []string{KindComponent, KindAPI, KindSystem, KindDomain, KindResource, KindGroup, KindUser, KindLocation}

// CanonicalKind returns the canonical spelling of a kind given in any case, or "" if it is unknown.
func CanonicalKind(kind string) string {
	for _, k := range Kinds {
		if strings.EqualFold(k, kind) {
			return k
		}
	}
	return ""
}

// The API versions accepted for the built-in kinds.
var APIVersions = []string{"backstage.io/v1alpha1", "backstage.io/v1beta1"}

// Entity is one catalog entity: the document as written (apiVersion, kind, metadata, spec) plus what
// Portside derives from it.
type Entity struct {
	APIVersion string
	Kind       string // canonical spelling, e.g. "Component"
	Metadata   Metadata
	Spec       map[string]any

	// Derived by validation.
	Ref       Ref
	Type      string // spec.type
	Lifecycle string // spec.lifecycle
	Owner     Ref    // spec.owner, resolved; zero when the kind has no owner
	System    Ref    // spec.system, resolved; zero when absent
	Relations []Relation
	// Targets are a Location's spec.target and spec.targets in the order written, each with
	// the field and line it was read at, so that a target that cannot be followed is reported
	// where the reader can fix it.
	Targets []LocationTarget

	// Provenance, set by ingestion and storage.
	LocationID int64
	Source     string // the file or URL within the location that holds the document
	Document   int    // the document's position in Source, 1-based, as in validation errors
	Line       int    // the line where the document starts in Source
	Hash       string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// LocationTarget is one target a Location entity names, where it was written.
type LocationTarget struct {
	Field  string // spec.target or spec.targets[i]
	Target string
	Line   int
}

// Metadata is an entity's metadata block.
type Metadata struct {
	Name        string
	Namespace   string
	Title       string
	Description string
	Labels      map[string]string
	Annotations map[string]string
	Tags        []string
	Links       []Link
	// Extra keeps metadata fields Portside does not interpret, so documents round-trip unchanged.
	Extra map[string]any
}

// Link is an entry of metadata.links.
type Link struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
	Icon  string `json:"icon,omitempty"`
	Type  string `json:"type,omitempty"`
}

// Relation is a typed edge from an entity to another, by reference. The target may not exist (yet).
type Relation struct {
	Type   string
	Target Ref
}

// The well-known relation types, in pairs: each has an inverse (see Inverse).
const (
	RelOwnedBy       = "ownedBy"
	RelOwnerOf       = "ownerOf"
	RelPartOf        = "partOf"
	RelHasPart       = "hasPart"
	RelDependsOn     = "dependsOn"
	RelDependencyOf  = "dependencyOf"
	RelProvidesAPI   = "providesApi"
	RelAPIProvidedBy = "apiProvidedBy"
	RelConsumesAPI   = "consumesApi"
	RelAPIConsumedBy = "apiConsumedBy"
	RelMemberOf      = "memberOf"
	RelHasMember     = "hasMember"
	RelParentOf      = "parentOf"
	RelChildOf       = "childOf"
)

var inverses = map[string]string{
	RelOwnedBy: RelOwnerOf, RelPartOf: RelHasPart, RelDependsOn: RelDependencyOf,
	RelProvidesAPI: RelAPIProvidedBy, RelConsumesAPI: RelAPIConsumedBy, RelMemberOf: RelHasMember,
	RelParentOf: RelChildOf,
}

func init() {
	for k, v := range maps.Clone(inverses) {
		inverses[v] = k
	}
}

// Inverse returns the relation type seen from the other end ("ownedBy" for "ownerOf"), or "" for a
// type Portside does not know.
func Inverse(relationType string) string { return inverses[relationType] }

// InverseRelationTypes lists, sorted, the relation types that have an inverse: those an entity's
// relations from other entities are read under.
func InverseRelationTypes() []string { return slices.Sorted(maps.Keys(inverses)) }

// document is the JSON shape of an entity as Backstage writes it.
type document struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       map[string]any `json:"spec,omitempty"`
}

// MarshalJSON writes the entity as a Backstage document (apiVersion, kind, metadata, spec), with
// namespace filled in and uninterpreted metadata kept.
func (e *Entity) MarshalJSON() ([]byte, error) { return e.EncodeJSON() }

// EncodeJSON returns the bytes json.Marshal(e) does, without reflection (see appendDocument)
// and without the second pass encoding/json makes over a Marshaler's output to check and compact
// it: ingestion encodes every entity it stores with it.
func (e *Entity) EncodeJSON() ([]byte, error) {
	md := e.Metadata.asMap()
	if b, ok := appendDocument(make([]byte, 0, 1024), e.APIVersion, e.Kind, md, e.Spec); ok {
		return b, nil
	}
	return json.Marshal(document{APIVersion: e.APIVersion, Kind: e.Kind, Metadata: md, Spec: e.Spec})
}

func (m Metadata) asMap() map[string]any {
	out := make(map[string]any, len(m.Extra)+8)
	maps.Copy(out, m.Extra)
	out["name"] = m.Name
	out["namespace"] = m.Namespace
	if m.Title != "" {
		out["title"] = m.Title
	}
	if m.Description != "" {
		out["description"] = m.Description
	}
	if len(m.Labels) > 0 {
		out["labels"] = m.Labels
	}
	if len(m.Annotations) > 0 {
		out["annotations"] = m.Annotations
	}
	if len(m.Tags) > 0 {
		out["tags"] = m.Tags
	}
	if len(m.Links) > 0 {
		out["links"] = m.Links
	}
	return out
}

// UnmarshalJSON reads what MarshalJSON wrote. Derived fields are filled from the stored columns by
// the store, not from here.
func (e *Entity) UnmarshalJSON(data []byte) error {
	var d document
	if err := json.Unmarshal(data, &d); err != nil {
		return err
	}
	e.APIVersion, e.Kind, e.Spec = d.APIVersion, d.Kind, d.Spec
	m := Metadata{Extra: map[string]any{}}
	for k, v := range d.Metadata {
		switch k {
		case "name":
			m.Name, _ = v.(string)
		case "namespace":
			m.Namespace, _ = v.(string)
		case "title":
			m.Title, _ = v.(string)
		case "description":
			m.Description, _ = v.(string)
		case "labels":
			m.Labels = stringMap(v)
		case "annotations":
			m.Annotations = stringMap(v)
		case "tags":
			for _, t := range asSlice(v) {
				if s, ok := t.(string); ok {
					m.Tags = append(m.Tags, s)
				}
			}
		case "links":
			// v came from JSON, so it encodes again; links that do not decode are a stored document
			// this version did not write, and are reported rather than dropped.
			raw, err := json.Marshal(v)
			if err == nil {
				err = json.Unmarshal(raw, &m.Links)
			}
			if err != nil {
				return fmt.Errorf("catalog: stored entity: metadata.links: %w", err)
			}
		default:
			m.Extra[k] = v
		}
	}
	if len(m.Extra) == 0 {
		m.Extra = nil
	}
	e.Metadata = m
	return nil
}

func stringMap(v any) map[string]string {
	in, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, val := range in {
		if s, ok := val.(string); ok {
			out[k] = s
		}
	}
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// SpecString returns spec[key] when it is a string.
func (e *Entity) SpecString(key string) string {
	s, _ := e.Spec[key].(string)
	return s
}

// RelationsOfType returns the targets of the entity's own relations of one type.
func (e *Entity) RelationsOfType(relationType string) []Ref {
	var out []Ref
	for _, r := range e.Relations {
		if r.Type == relationType {
			out = append(out, r.Target)
		}
	}
	return out
}
