package backstage

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The rules below are Backstage's: the entity JSON schemas and kind schemas of
// @backstage/catalog-model, its FieldFormatEntityPolicy, NoForeignRootFieldsEntityPolicy and
// DefaultNamespaceEntityPolicy, and the relations BuiltinKindsEntityProcessor emits, so that a
// catalog written for Backstage means the same here. The messages are Portside's own: they say
// what was expected and what was found.

// validObjectName is the rule for entity names and label values: 1–63 characters, runs of
// [A-Za-z0-9] separated by one of [-_.].
func validObjectName(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && isObjectName(s)
}

// validDNSLabel is the rule for namespaces: 1–63 characters, runs of [a-z0-9] separated by dashes.
func validDNSLabel(s string) bool { return len(s) >= 1 && len(s) <= 63 && isDNSLabel(s) }

func validDNSSubdomain(s string) bool {
	if len(s) < 1 || len(s) > 253 {
		return false
	}
	for l := range strings.SplitSeq(s, ".") {
		if !validDNSLabel(l) {
			return false
		}
	}
	return true
}

func validKind(s string) bool { return len(s) >= 1 && len(s) <= 63 && isKind(s) }

// validPrefixed checks "name" or "prefix/name", each part by its own rule.
func validPrefixed(s string, prefix, name func(string) bool) bool {
	p, n, found := strings.Cut(s, "/")
	switch {
	case !found:
		return name(s)
	case strings.Contains(n, "/"):
		return false
	}
	return prefix(p) && name(n)
}

func validAPIVersion(s string) bool {
	return validPrefixed(s, validDNSSubdomain, func(n string) bool {
		return len(n) >= 1 && len(n) <= 63 && isAPIVersionSuffix(n)
	})
}

// validKey is the rule for label and annotation keys: an optional DNS-subdomain prefix and a
// slash, then an object name.
func validKey(s string) bool { return validPrefixed(s, validDNSSubdomain, validObjectName) }

func validTag(s string) bool { return len(s) >= 1 && len(s) <= 63 && isTag(s) }

// validURL accepts what the WHATWG URL parser (JavaScript's new URL) accepts as an absolute URL,
// near enough: a scheme, and a host for the schemes that need one.
func validURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "ws", "wss", "ftp":
		return u.Host != ""
	}
	return true
}

const (
	nameRule      = "1–63 characters: runs of [a-zA-Z0-9] separated by one of [-_.]"
	namespaceRule = "1–63 characters: runs of [a-z0-9] separated by [-]"
	keyRule       = `an optional DNS-subdomain prefix (at most 253 characters) and "/", then ` + nameRule
	tagRule       = "1–63 characters: runs of [a-z0-9:+#] separated by [-]"
)

// shape is what a spec field holds.
type shape uint8

const (
	shapeString    shape = iota // a non-empty string
	shapeRef                    // one entity reference
	shapeRefs                   // a list of entity references
	shapeRefOrRefs              // one reference or a list of them (a field outside the kind's schema)
	shapeStrings                // a list of non-empty strings
	shapeProfile                // {displayName, email, picture}
	shapeEnum                   // one of enum
)

// specField is one field of a kind's spec.
type specField struct {
	name     string
	shape    shape
	required bool
	example  string   // a good value, for messages
	kind     string   // default kind of references; "" means a reference must name its kind
	relation string   // the relation each reference declares
	enum     []string // for shapeEnum
}

// kindSpecs are the spec fields of each kind, from the kinds' JSON schemas, with the reference
// fields, their default kinds and relations as BuiltinKindsEntityProcessor handles them. Fields
// not listed are allowed and kept as written.
var kindSpecs = map[string][]specField{
	KindComponent: {
		{name: "type", required: true, example: "service"},
		{name: "lifecycle", required: true, example: "production"},
		{name: "owner", shape: shapeRef, required: true, kind: KindGroup, relation: RelOwnedBy},
		{name: "system", shape: shapeRef, kind: KindSystem, relation: RelPartOf},
		{name: "subcomponentOf", shape: shapeRef, kind: KindComponent, relation: RelPartOf},
		{name: "providesApis", shape: shapeRefs, kind: KindAPI, relation: RelProvidesAPI},
		{name: "consumesApis", shape: shapeRefs, kind: KindAPI, relation: RelConsumesAPI},
		{name: "dependsOn", shape: shapeRefs, relation: RelDependsOn},
		{name: "dependencyOf", shape: shapeRefOrRefs, relation: RelDependencyOf},
	},
	KindAPI: {
		{name: "type", required: true, example: "openapi"},
		{name: "lifecycle", required: true, example: "production"},
		{name: "owner", shape: shapeRef, required: true, kind: KindGroup, relation: RelOwnedBy},
		{name: "definition", required: true, example: "the API's definition, e.g. {$text: ./openapi.yaml}"},
		{name: "system", shape: shapeRef, kind: KindSystem, relation: RelPartOf},
	},
	KindSystem: {
		{name: "owner", shape: shapeRef, required: true, kind: KindGroup, relation: RelOwnedBy},
		{name: "domain", shape: shapeRef, kind: KindDomain, relation: RelPartOf},
		{name: "type", example: "product"},
	},
	KindDomain: {
		{name: "owner", shape: shapeRef, required: true, kind: KindGroup, relation: RelOwnedBy},
		{name: "subdomainOf", shape: shapeRef, kind: KindDomain, relation: RelPartOf},
		{name: "type", example: "product-area"},
	},
	KindResource: {
		{name: "type", required: true, example: "database"},
		{name: "owner", shape: shapeRef, required: true, kind: KindGroup, relation: RelOwnedBy},
		{name: "dependsOn", shape: shapeRefs, relation: RelDependsOn},
		{name: "dependencyOf", shape: shapeRefOrRefs, relation: RelDependencyOf},
		{name: "system", shape: shapeRef, kind: KindSystem, relation: RelPartOf},
	},
	KindGroup: {
		{name: "type", required: true, example: "team"},
		{name: "profile", shape: shapeProfile},
		{name: "parent", shape: shapeRef, kind: KindGroup, relation: RelChildOf},
		{name: "children", shape: shapeRefs, required: true, kind: KindGroup, relation: RelParentOf},
		{name: "members", shape: shapeRefs, kind: KindUser, relation: RelHasMember},
	},
	KindUser: {
		{name: "profile", shape: shapeProfile},
		{name: "memberOf", shape: shapeRefs, required: true, kind: KindGroup, relation: RelMemberOf},
	},
	KindLocation: {
		{name: "type", example: "url"},
		{name: "target", example: "./catalog-info.yaml"},
		{name: "targets", shape: shapeStrings, example: `["./*/catalog-info.yaml"]`},
		{name: "presence", shape: shapeEnum, enum: []string{"required", "optional"}},
	},
}

// refExamples show a reference of each default kind in messages.
var refExamples = map[string]string{
	KindGroup: "group:team-a", KindUser: "user:jdoe", KindSystem: "system:payments",
	KindDomain: "domain:commerce", KindComponent: "component:checkout", KindAPI: "api:orders",
	"": "resource:orders-db",
}

// knownRootFields are the only top-level fields Backstage accepts in a document.
var knownRootFields = []string{"apiVersion", "kind", "metadata", "spec"}

// docCheck validates one document.
type docCheck struct {
	p         *problems
	kind      string // canonical kind, "" when unknown
	namespace string // the entity's namespace, default for references
	entity    *Entity
	relations []Relation
	tooLarge  bool // the document is too large to copy into an entity; it is only checked
}

// parseDocument converts, substitutes and validates one non-empty document.
func parseDocument(source string, index int, node *yaml.Node, resolve Resolver) Document {
	p := &problems{source: source, index: index}
	doc := Document{Index: index, Line: node.Line}
	conv := newConverter(p)
	root, _ := conv.convert(node, &fieldPath{})
	shared := conv.shared // whether a value appears twice in the tree, through aliases
	if root.kind == vMap {
		// Before anything else, as Backstage does: the whole document may be a placeholder.
		sub := newSubstituter(p, resolve)
		if !shared {
			sub.done = nil
		}
		root = sub.walk(root, "")
		shared = shared || sub.substituted
	}
	if root.kind != vMap {
		if root.kind != vBroken {
			// Named by kind only: a file that is not a catalog at all (a key, a token) must not have
			// its content copied into an error message that every catalog reader sees.
			p.add("", root.line, "a catalog document must be a mapping with apiVersion, kind, metadata and spec, got %s", kindName(root))
		}
		doc.Errors = finish(p, "")
		return doc
	}
	c := &docCheck{p: p, entity: &Entity{}}
	var memo map[*value]int
	if shared {
		memo = map[*value]int{}
	}
	if expandedSize(root, maxDocumentSize, memo) > maxDocumentSize {
		p.add("", root.line, "the document is larger than %d MiB once its aliases and placeholders are expanded", maxDocumentSize>>20)
		c.tooLarge = true
	}
	doc.Ref = c.check(root)
	ref := ""
	if !doc.Ref.IsZero() {
		ref = doc.Ref.String()
	}
	doc.Errors = finish(p, ref)
	if len(doc.Errors) == 0 {
		c.entity.Ref = doc.Ref
		c.entity.Relations = SortRelations(c.relations)
		doc.Entity = c.entity
	}
	return doc
}

// kindName says what sort of value v is, without its content.
func kindName(v *value) string {
	switch v.kind {
	case vNull:
		return "null"
	case vBool:
		return "a boolean"
	case vNumber:
		return "a number"
	case vString:
		return "a string"
	case vList:
		return "a list"
	}
	return "something else"
}

// finish stamps the entity's ref on a document's errors and orders them by line.
func finish(p *problems, ref string) []ValidationError {
	for i := range p.list {
		p.list[i].Ref = ref
	}
	slices.SortStableFunc(p.list, func(a, b ValidationError) int { return cmp.Compare(a.Line, b.Line) })
	return p.list
}

// SortRelations orders and de-duplicates relations, so an entity's relations do not depend on
// the order its fields are written in (and its hash does not change when they are reordered).
func SortRelations(list []Relation) []Relation {
	slices.SortFunc(list, func(a, b Relation) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), compareRefStrings(a.Target, b.Target))
	})
	return slices.Compact(list)
}

// compareRefStrings is strings.Compare(a.String(), b.String()) without building the strings,
// which sorting every entity's relations did twice per comparison.
func compareRefStrings(a, b Ref) int {
	if a.IsZero() || b.IsZero() {
		return strings.Compare(a.String(), b.String())
	}
	pa := [...]string{a.Kind, ":", a.Namespace, "/", a.Name}
	pb := [...]string{b.Kind, ":", b.Namespace, "/", b.Name}
	i, j := 0, 0 // the part of each being compared
	x, y := pa[0], pb[0]
	for {
		for x == "" && i < len(pa)-1 {
			i++
			x = pa[i]
		}
		for y == "" && j < len(pb)-1 {
			j++
			y = pb[j]
		}
		if x == "" || y == "" {
			return cmp.Compare(len(x), len(y)) // both ended (0), or the one that ended is less
		}
		n := min(len(x), len(y))
		if c := strings.Compare(x[:n], y[:n]); c != 0 {
			return c
		}
		x, y = x[n:], y[n:]
	}
}

// check validates the document and fills c.entity; it returns the entity's identity when readable.
func (c *docCheck) check(root *value) Ref {
	for i, k := range root.keys {
		if !slices.Contains(knownRootFields, k) {
			c.p.add(k, root.vals[i].line, "unknown top-level field; a document has only apiVersion, kind, metadata and spec")
		}
	}
	apiVersion, apiOK := c.apiVersion(root)
	kind, kindOK := c.kindField(root)
	name, namespace, nameOK := c.metadata(root)

	var ref Ref
	if kindOK && nameOK {
		ref = MakeRef(kind, namespace, name)
	}
	c.namespace = namespace
	if !kindOK {
		return ref
	}
	canonical := CanonicalKind(kind)
	switch {
	case canonical == "":
		with := ""
		if apiOK {
			with = fmt.Sprintf(" (apiVersion %s)", apiVersion)
		}
		c.p.add("kind", root.get("kind").line, "%q%s is not a supported kind; the supported kinds are %s, with apiVersion %s",
			kind, with, joinWords(Kinds), strings.Join(APIVersions, " or "))
		return ref
	case canonical != kind:
		c.p.add("kind", root.get("kind").line, "kind %q must be spelled %q; kinds are case-sensitive", kind, canonical)
	}
	if apiOK && !slices.Contains(APIVersions, apiVersion) {
		c.p.add("apiVersion", root.get("apiVersion").line, "apiVersion %q is not supported for kind %s; use %s",
			apiVersion, canonical, strings.Join(APIVersions, " or "))
	}
	c.kind = canonical
	c.entity.APIVersion, c.entity.Kind = apiVersion, canonical
	c.spec(root)
	return ref
}

func (c *docCheck) apiVersion(root *value) (string, bool) {
	v := root.get("apiVersion")
	switch {
	case v == nil:
		c.p.add("apiVersion", root.line, `missing; expected e.g. "backstage.io/v1alpha1"`)
	case v.kind == vBroken:
	case v.kind != vString:
		c.p.add("apiVersion", v.line, `expected a string such as "backstage.io/v1alpha1", got %s`, describe(v))
	case !validAPIVersion(v.str):
		c.p.add("apiVersion", v.line, `expected a group and version such as "backstage.io/v1alpha1", got %s`, describe(v))
	default:
		return v.str, true
	}
	return "", false
}

func (c *docCheck) kindField(root *value) (string, bool) {
	v := root.get("kind")
	switch {
	case v == nil:
		c.p.add("kind", root.line, "missing; expected one of %s", strings.Join(Kinds, ", "))
	case v.kind == vBroken:
	case v.kind != vString:
		c.p.add("kind", v.line, `expected a string such as "Component", got %s`, describe(v))
	case !validKind(v.str):
		c.p.add("kind", v.line, `expected a kind such as "Component" (a letter, then letters and digits, at most 63 characters), got %s`, describe(v))
	default:
		return v.str, true
	}
	return "", false
}

// metadata checks the metadata block and fills c.entity.Metadata. It returns the entity's name and
// namespace, and whether both are valid.
func (c *docCheck) metadata(root *value) (name, namespace string, ok bool) {
	namespace = DefaultNamespace
	md := root.get("metadata")
	switch {
	case md == nil:
		c.p.add("metadata", root.line, "missing; every entity needs metadata with at least a name")
		return "", namespace, false
	case md.kind == vBroken:
		return "", namespace, false
	case md.kind != vMap:
		c.p.add("metadata", md.line, "expected a mapping with at least a name, got %s", describe(md))
		return "", namespace, false
	}
	m := &c.entity.Metadata
	nameOK, nsOK := false, true
	for i, k := range md.keys {
		v := md.vals[i]
		field := joinField("metadata", k)
		if v.kind == vBroken {
			// Already reported; a broken name or namespace leaves the identity unreadable.
			if k == "namespace" {
				nsOK = false
			}
			continue
		}
		switch k {
		case "name":
			switch {
			case v.kind != vString:
				c.p.add(field, v.line, "expected a name (%s), got %s", nameRule, describe(v))
			case !validObjectName(v.str):
				c.p.add(field, v.line, "expected a name of %s, got %s", nameRule, describe(v))
			default:
				name, nameOK = v.str, true
			}
		case "namespace":
			nsOK = false
			switch {
			case v.kind != vString:
				c.p.add(field, v.line, "expected a namespace (%s), got %s", namespaceRule, describe(v))
			case !validDNSLabel(v.str):
				c.p.add(field, v.line, "expected a namespace of %s, got %s", namespaceRule, describe(v))
			default:
				namespace, nsOK = v.str, true
			}
		case "title":
			m.Title = c.nonEmptyString(field, v)
		case "description":
			if v.kind != vString {
				c.p.add(field, v.line, "expected a string, got %s", describe(v))
			} else {
				m.Description = v.str
			}
		case "labels":
			m.Labels = c.stringMap(field, v, true)
		case "annotations":
			m.Annotations = c.stringMap(field, v, false)
			c.checkAnnotations(field, v, m.Annotations)
		case "tags":
			m.Tags = c.tags(field, v)
		case "links":
			m.Links = c.links(field, v)
		case "uid", "etag":
			c.nonEmptyString(field, v)
			c.extra(k, v)
		default:
			c.extra(k, v)
		}
	}
	if md.get("name") == nil {
		c.p.add("metadata.name", md.line, "missing; every entity needs a name (%s)", nameRule)
	}
	m.Name, m.Namespace = name, namespace
	return name, namespace, nameOK && nsOK
}

func (c *docCheck) extra(key string, v *value) {
	if c.tooLarge {
		return
	}
	m := &c.entity.Metadata
	if m.Extra == nil {
		m.Extra = map[string]any{}
	}
	m.Extra[key] = v.plain()
}

// nonEmptyString returns v's string, or reports that it is not a non-empty string.
func (c *docCheck) nonEmptyString(field string, v *value) string {
	switch {
	case v.kind == vBroken:
	case v.kind != vString || v.str == "":
		c.p.add(field, v.line, "expected a non-empty string, got %s", describe(v))
	default:
		return v.str
	}
	return ""
}

// stringMap checks labels (values follow the name rule, or are empty) and annotations (any string).
func (c *docCheck) stringMap(field string, v *value, labels bool) map[string]string {
	if v.kind != vMap {
		c.p.add(field, v.line, "expected a mapping of keys to strings, got %s", describe(v))
		return nil
	}
	what := "annotation"
	if labels {
		what = "label"
	}
	var out map[string]string
	for i, k := range v.keys {
		val := v.vals[i]
		f := field + "[" + k + "]"
		if !validKey(k) {
			c.p.add(f, val.line, "%s key %q is not valid; expected %s", what, k, keyRule)
		}
		switch {
		case val.kind == vBroken:
			continue
		case val.kind != vString:
			hint := ""
			if val.kind == vBool || val.kind == vNumber {
				hint = fmt.Sprintf("; quote it (%q) to keep it a string", val.str)
				if val.kind == vBool {
					hint = fmt.Sprintf("; quote it (\"%t\") to keep it a string", val.b)
				}
			}
			c.p.add(f, val.line, "expected a string, got %s%s", describe(val), hint)
			continue
		case labels && val.str != "" && !validObjectName(val.str):
			c.p.add(f, val.line, "expected a label value of %s, or an empty string, got %s", nameRule, describe(val))
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = val.str
	}
	return out
}

func (c *docCheck) tags(field string, v *value) []string {
	if v.kind != vList {
		c.p.add(field, v.line, "expected a list of tags, got %s", describe(v))
		return nil
	}
	var out []string
	for i, t := range v.items {
		f := indexField(field, i)
		switch {
		case t.kind == vBroken:
		case t.kind != vString:
			c.p.add(f, t.line, "expected a tag (%s), got %s", tagRule, describe(t))
		case !validTag(t.str):
			c.p.add(f, t.line, "expected a tag of %s, got %s", tagRule, describe(t))
		default:
			out = append(out, t.str)
		}
	}
	return out
}

func (c *docCheck) links(field string, v *value) []Link {
	if v.kind != vList {
		c.p.add(field, v.line, "expected a list of links, each with a url, got %s", describe(v))
		return nil
	}
	var out []Link
	for i, l := range v.items {
		f := indexField(field, i)
		if l.kind == vBroken {
			continue
		}
		if l.kind != vMap {
			c.p.add(f, l.line, "expected a link: a mapping with url and optionally title, icon and type, got %s", describe(l))
			continue
		}
		var link Link
		if u := l.get("url"); u == nil {
			c.p.add(f+".url", l.line, `missing; every link needs an absolute URL such as "https://example.com/dashboard"`)
		} else if u.kind != vBroken {
			if u.kind != vString || !validURL(u.str) {
				c.p.add(f+".url", u.line, `expected an absolute URL such as "https://example.com/dashboard", got %s`, describe(u))
			} else {
				link.URL = u.str
			}
		}
		if t := l.get("title"); t != nil {
			link.Title = c.nonEmptyString(f+".title", t)
			if t.kind == vString && t.str != "" && strings.TrimSpace(t.str) == "" {
				c.p.add(f+".title", t.line, "expected a non-empty string, got %s", describe(t))
			}
		}
		if t := l.get("icon"); t != nil {
			link.Icon = c.nonEmptyString(f+".icon", t)
			if t.kind == vString && t.str != "" && strings.TrimSpace(t.str) == "" {
				c.p.add(f+".icon", t.line, "expected a non-empty string, got %s", describe(t))
			}
		}
		if t := l.get("type"); t != nil {
			link.Type = c.nonEmptyString(f+".type", t)
		}
		out = append(out, link)
	}
	return out
}

// spec checks the spec of a known kind, fills the entity's spec and derived fields, and collects
// the relations the entity declares.
func (c *docCheck) spec(root *value) {
	fields := kindSpecs[c.kind]
	spec := root.get("spec")
	switch {
	case spec == nil:
		var required []string
		for _, f := range fields {
			if f.required {
				required = append(required, f.name)
			}
		}
		what := "a spec"
		if len(required) > 0 {
			what = "a spec with " + joinWords(required)
		}
		c.p.add("spec", root.line, "missing; a %s needs %s", c.kind, what)
		return
	case spec.kind == vBroken:
		return
	case spec.kind != vMap:
		c.p.add("spec", spec.line, "expected a mapping, got %s", describe(spec))
		return
	}
	if !c.tooLarge {
		c.entity.Spec, _ = spec.plain().(map[string]any)
	}
	for _, f := range fields {
		v := spec.get(f.name)
		field := "spec." + f.name
		if v == nil {
			if f.required {
				c.p.add(field, spec.line, "missing; expected %s", expectation(f))
			}
			continue
		}
		if v.kind == vBroken {
			continue
		}
		switch f.shape {
		case shapeString:
			if v.kind != vString || v.str == "" {
				c.p.add(field, v.line, "expected %s, got %s", expectation(f), describe(v))
				continue
			}
			if len(v.str) > maxSpecWordBytes && (f.name == "type" || f.name == "lifecycle") {
				c.p.add(field, v.line, "expected a word such as %q of at most %d bytes, got %d bytes", f.example, maxSpecWordBytes, len(v.str))
				continue
			}
			switch f.name {
			case "type":
				c.entity.Type = v.str
			case "lifecycle":
				c.entity.Lifecycle = v.str
			case "target":
				if c.kind == KindLocation {
					c.entity.Targets = append(c.entity.Targets, LocationTarget{Field: field, Target: v.str, Line: v.line})
				}
			}
		case shapeEnum:
			if v.kind != vString || !slices.Contains(f.enum, v.str) {
				c.p.add(field, v.line, "expected %s, got %s", expectation(f), describe(v))
			}
		case shapeStrings:
			if v.kind != vList {
				c.p.add(field, v.line, "expected %s, got %s", expectation(f), describe(v))
				continue
			}
			for i, it := range v.items {
				switch {
				case it.kind == vBroken:
				case it.kind != vString || it.str == "":
					c.p.add(indexField(field, i), it.line, "expected a non-empty string, got %s", describe(it))
				case f.name == "targets" && c.kind == KindLocation:
					c.entity.Targets = append(c.entity.Targets, LocationTarget{Field: indexField(field, i), Target: it.str, Line: it.line})
				}
			}
		case shapeProfile:
			c.profile(field, v)
		case shapeRef:
			if r, ok := c.ref(field, v, f); ok {
				switch f.name {
				case "owner":
					c.entity.Owner = r
				case "system":
					c.entity.System = r
				}
			}
		case shapeRefs, shapeRefOrRefs:
			if v.kind == vString && f.shape == shapeRefOrRefs {
				c.ref(field, v, f)
				continue
			}
			if v.kind != vList {
				c.p.add(field, v.line, "expected %s, got %s", expectation(f), describe(v))
				continue
			}
			for i, it := range v.items {
				c.ref(indexField(field, i), it, f)
			}
		}
	}
}

// ref reads one entity reference and records the relation it declares.
func (c *docCheck) ref(field string, v *value, f specField) (Ref, bool) {
	if v.kind == vBroken {
		return Ref{}, false
	}
	if v.kind != vString || v.str == "" {
		c.p.add(field, v.line, "expected an entity reference such as %q, got %s", refExamples[f.kind], describe(v))
		return Ref{}, false
	}
	r, err := ParseRef(v.str, f.kind, c.namespace)
	if err == nil && (strings.ContainsAny(r.Kind, ":/") || strings.ContainsAny(r.Namespace, ":/")) {
		// "a/b:c" would otherwise give kind "a/b"; Ref.String must read back as the same ref.
		err = fmt.Errorf("entity reference %q is malformed; write it as [kind:][namespace/]name", v.str)
	}
	if err != nil {
		c.p.add(field, v.line, "%s", err.Error())
		return Ref{}, false
	}
	if part, n := longestRefPart(r); n > maxRefPartBytes {
		c.p.add(field, v.line, "entity reference %s names a %s of %d bytes; a kind, namespace and name are each at most %d, so it can refer to no entity",
			describe(v), part, n, maxRefPartBytes)
		return Ref{}, false
	}
	c.relations = append(c.relations, Relation{Type: f.relation, Target: r})
	return r, true
}

func (c *docCheck) profile(field string, v *value) {
	if v.kind != vMap {
		c.p.add(field, v.line, "expected a mapping with displayName, email and picture, got %s", describe(v))
		return
	}
	for _, k := range []string{"displayName", "email", "picture"} {
		if p := v.get(k); p != nil {
			c.nonEmptyString(field+"."+k, p)
		}
	}
}

// maxRefPartBytes is the longest kind, namespace or name an entity reference may hold: the
// longest an entity's own may be (validKind, validDNSLabel, validObjectName). A longer one can
// refer to no entity, and PostgreSQL could not index it either (a B-tree entry holds at most
// 2,704 bytes: one such reference in a file failed the whole location's refresh).
const maxRefPartBytes = 63

// longestRefPart returns the longest of a reference's kind, namespace and name, by what it is
// and its length in bytes.
func longestRefPart(r Ref) (string, int) {
	part, n := "kind", len(r.Kind)
	if len(r.Namespace) > n {
		part, n = "namespace", len(r.Namespace)
	}
	if len(r.Name) > n {
		part, n = "name", len(r.Name)
	}
	return part, n
}

// maxSpecWordBytes bounds spec.type and spec.lifecycle, which Backstage leaves unbounded: each is
// a word ("service", "production") that Portside indexes, filters and counts by, and a B-tree
// entry holds at most 2,704 bytes, so a longer value failed the whole location's refresh on
// PostgreSQL. 253 is Kubernetes' bound for a name, well past any real type or lifecycle.
const maxSpecWordBytes = 253

// expectation says what a spec field should hold.
func expectation(f specField) string {
	switch f.shape {
	case shapeRef:
		return fmt.Sprintf("an entity reference such as %q", refExamples[f.kind])
	case shapeRefs:
		return fmt.Sprintf("a list of entity references such as [%s]", refExamples[f.kind])
	case shapeRefOrRefs:
		return fmt.Sprintf("an entity reference or a list of them, such as [%s]", refExamples[f.kind])
	case shapeStrings:
		return "a list of strings such as " + f.example
	case shapeProfile:
		return "a mapping with displayName, email and picture"
	case shapeEnum:
		quoted := make([]string, len(f.enum))
		for i, e := range f.enum {
			quoted[i] = fmt.Sprintf("%q", e)
		}
		return "one of " + strings.Join(quoted, ", ")
	default:
		if strings.Contains(f.example, " ") {
			return "a non-empty string: " + f.example
		}
		return fmt.Sprintf("a non-empty string such as %q", f.example)
	}
}

func joinWords(w []string) string {
	switch len(w) {
	case 0:
		return ""
	case 1:
		return w[0]
	}
	return strings.Join(w[:len(w)-1], ", ") + " and " + w[len(w)-1]
}
