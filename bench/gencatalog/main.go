// Command gencatalog writes a synthetic Backstage catalog of configurable size and realistic shape,
// so that Portside's benchmarks and load driver run against something that looks like a large
// company's catalog rather than a toy: a group tree with members, domains, systems, and components
// wired to each other, to APIs and to resources about as densely as real catalogs are.
//
// Usage:
//
//	go run ./bench/gencatalog -out DIR [-scale 1] [-seed 1] [-components 10000] ...
//
// It writes DIR/catalog-info.yaml (a Location whose target is ./shards/*.yaml), DIR/shards/*.yaml
// (about 200 documents each) and DIR/queries.json (inputs for the load driver), and prints a
// summary to stderr. The same flags and seed always give byte-identical output.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gencatalog:", err)
		}
		os.Exit(2)
	}
}

// config is what the flags set.
type config struct {
	out      string
	seed     uint64
	scale    float64
	perShard int
	counts   counts
	// openAPIPaths is how many paths each OpenAPI definition has (1: a short definition; 4
	// makes the several-kB inline definitions real catalogs carry).
	openAPIPaths int
	// bigFile writes every API and component into one file (over 10 MB at the default size with
	// large definitions) rather than spreading them over shards.
	bigFile bool
}

// counts is how many entities of each kind to generate.
type counts struct {
	components, apis, systems, domains, groups, users, resources int
}

var defaultCounts = counts{
	components: 10000, apis: 2000, systems: 500, domains: 50, groups: 300, users: 3000, resources: 1000,
}

// scaled multiplies every count, keeping at least one of each kind so references always resolve.
func (c counts) scaled(f float64) counts {
	s := func(n int) int { return max(1, int(math.Round(float64(n)*f))) }
	return counts{
		components: s(c.components), apis: s(c.apis), systems: s(c.systems), domains: s(c.domains),
		groups: s(c.groups), users: s(c.users), resources: s(c.resources),
	}
}

func run(args []string, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	m := build(cfg.seed, cfg.counts)
	m.openAPIPaths, m.bigFile = cfg.openAPIPaths, cfg.bigFile
	written, err := m.write(cfg.out, cfg.perShard, cfg.seed)
	if err != nil {
		return err
	}
	m.summary(stderr, cfg, written, time.Since(start))
	return nil
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("gencatalog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	c := defaultCounts
	fs.StringVar(&cfg.out, "out", "", "directory to write the catalog to (required)")
	fs.Uint64Var(&cfg.seed, "seed", 1, "random seed; the same seed and sizes give byte-identical output")
	fs.Float64Var(&cfg.scale, "scale", 1, "multiplies every count (10 = 100,000 components)")
	fs.IntVar(&cfg.perShard, "shard-size", 200, "documents per shard file")
	fs.IntVar(&cfg.openAPIPaths, "openapi-paths", 1, "paths in each OpenAPI definition (4: about 4.5 kB a definition, inline in spec.definition)")
	fs.BoolVar(&cfg.bigFile, "big-file", false, "write every API and component into one file instead of shards (with -openapi-paths 4, 15 MB at scale 1)")
	fs.IntVar(&c.components, "components", c.components, "components")
	fs.IntVar(&c.apis, "apis", c.apis, "APIs")
	fs.IntVar(&c.systems, "systems", c.systems, "systems")
	fs.IntVar(&c.domains, "domains", c.domains, "domains")
	fs.IntVar(&c.groups, "groups", c.groups, "groups")
	fs.IntVar(&c.users, "users", c.users, "users")
	fs.IntVar(&c.resources, "resources", c.resources, "resources")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	switch {
	case cfg.out == "":
		return cfg, errors.New("-out is required")
	case fs.NArg() > 0:
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	case cfg.scale <= 0 || math.IsInf(cfg.scale, 0) || math.IsNaN(cfg.scale):
		return cfg, fmt.Errorf("-scale must be positive, not %v", cfg.scale)
	case cfg.perShard < 1:
		return cfg, fmt.Errorf("-shard-size must be at least 1, not %d", cfg.perShard)
	case cfg.openAPIPaths < 1:
		return cfg, fmt.Errorf("-openapi-paths must be at least 1, not %d", cfg.openAPIPaths)
	}
	for _, n := range []int{c.components, c.apis, c.systems, c.domains, c.groups, c.users, c.resources} {
		if n < 0 {
			return cfg, errors.New("counts must not be negative")
		}
	}
	cfg.counts = c.scaled(cfg.scale)
	return cfg, nil
}

// The model. Entities refer to each other by index into the model's slices; names are resolved
// only when writing.

type group struct {
	name, title, typ string
	parent           int // -1 for a root
	children         []int
	members          []int
	area             string
}

type user struct {
	name, displayName string
	memberOf          []int
}

type domain struct {
	name, title, description, area string
	owner                          int
}

type system struct {
	name, title, description, area string
	codename                       string // the project the system is, named in its entities' descriptions
	owner, domain                  int
	components, apis, resources    []int
}

// dep is a dependsOn target of a component: another component or a resource.
type dep struct {
	resource bool
	i        int
}

type component struct {
	name, title, description, typ, lifecycle string
	owner, system                            int
	subcomponentOf                           int // -1 when none
	tags                                     []string
	argoCD                                   bool
	// pipeline: the component declares a GitHub Actions pipeline (the component pages the load
	// driver asks for: see queries), so its page shows pipelines and their latest runs.
	pipeline                   bool
	dependsOn                  []dep
	providesAPIs, consumesAPIs []int
}

type api struct {
	name, title, description, typ, lifecycle, area, noun string
	owner, system                                        int
	tags                                                 []string
}

type resource struct {
	name, title, description, typ string
	owner, system                 int
	dependsOn                     []int
	tags                          []string
}

type model struct {
	groups     []group
	teams      []int // the leaf groups, which own systems and components
	users      []user
	domains    []domain
	systems    []system
	components []component
	apis       []api
	resources  []resource
	queries    queries

	// How the model is written (see config).
	openAPIPaths int
	bigFile      bool

	// declared counts every reference written in a spec, as the parser sees them; edges counts
	// each relation once even where both ends declare it (parent and children, memberOf and members).
	declared, edges int
}

// queries are the load driver's inputs, drawn from the generated data.
type queries struct {
	Seed uint64 `json:"seed"`
	// Components are full refs of components to fetch.
	Components []string `json:"components"`
	// Owners are full refs of groups that own at least one component.
	Owners []string `json:"owners"`
	// SearchWords each match between 0.1 % and 5 % of the components, whether search matches whole words
	// or substrings of name, title, description and tags.
	SearchWords []string `json:"searchWords"`
	// SearchMatches is how many components each search word matches as a whole word.
	SearchMatches map[string]int `json:"searchMatches"`
	// Deployed are those of Components that carry argocd/app-name (naming an application
	// called like the component), for the component page with its deployments.
	Deployed []string `json:"deployed"`
}

// gen is the state of one generation: the random source and the samplers over the vocabularies.
type gen struct {
	r *rand.Rand
	m *model

	verbs, adjectives, objects, audiences, technologies, guarantees, regions, adverbs *zipf
	languages, others, nouns, codenames                                               *zipf
}

// build generates the model. Every random choice comes from one PCG stream seeded with seed, in
// a fixed order, which is what makes the output reproducible.
func build(seed uint64, c counts) *model {
	g := &gen{
		r: rand.New(rand.NewPCG(seed, 0x5eed_cafe_f00d_beef)),
		m: &model{},

		verbs: newZipf(verbs, 1), adjectives: newZipf(adjectives, 1), objects: newZipf(objects, 1),
		audiences: newZipf(audiences, 1), technologies: newZipf(technologies, 1),
		guarantees: newZipf(guarantees, 1), regions: newZipf(regions, 1), adverbs: newZipf(adverbs, 1),
		languages: newZipf(languageTags, 1), others: newZipf(otherTags, 1),
		// Names vary more than prose: a flatter curve, so no one noun is in every other name.
		nouns:     newZipf(nouns, 0.5),
		codenames: newZipf(codenames, 0.5),
	}
	g.groups(c.groups)
	g.users(c.users)
	g.domains(c.domains)
	g.systems(c.systems)
	g.resources(c.resources)
	g.apis(c.apis)
	g.components(c.components)
	g.queries(seed)
	return g.m
}

func (g *gen) groups(n int) {
	r := g.r
	sizes := levelSizes(n)
	upper := []string{"business-unit", "department", "division"}
	width := numberWidth(n, 3)
	var prev []int
	for level, size := range sizes {
		leaf := level == len(sizes)-1
		typ := "team"
		if !leaf {
			typ = upper[min(level, len(upper)-1)]
		}
		var this []int
		for j := range size {
			i := len(g.m.groups)
			grp := group{typ: typ, parent: -1}
			if len(prev) > 0 {
				// Round robin, so that every group above the leaves has children.
				grp.parent = prev[j%len(prev)]
				g.m.groups[grp.parent].children = append(g.m.groups[grp.parent].children, i)
			}
			grp.area = pick(r, areas)
			if grp.parent >= 0 && r.IntN(10) < 7 {
				grp.area = g.m.groups[grp.parent].area
			}
			num := fmt.Sprintf("%0*d", width, i)
			if leaf {
				noun := g.nouns.pick(r)
				grp.name = "team-" + grp.area + "-" + noun + "-" + num
				grp.title = titleCase(grp.area, noun, "team", strconv.Itoa(i))
			} else {
				grp.name = typ + "-" + grp.area + "-" + num
				grp.title = titleCase(append(append([]string{grp.area}, strings.Split(typ, "-")...), strconv.Itoa(i))...)
			}
			if grp.parent >= 0 {
				g.m.edges++
				g.m.declared += 2 // spec.parent on the child, spec.children on the parent
			}
			g.m.groups = append(g.m.groups, grp)
			this = append(this, i)
		}
		prev = this
	}
	g.m.teams = prev
}

// levelSizes splits n groups into a tree about four levels deep: a few roots, a wider middle and
// the teams at the leaves.
func levelSizes(n int) []int {
	want := []int{
		max(1, int(math.Round(float64(n)*0.01))),
		int(math.Round(float64(n) * 0.05)),
		int(math.Round(float64(n) * 0.20)),
	}
	var out []int
	rest := n
	for _, s := range want {
		s = min(s, rest)
		if s > 0 {
			out = append(out, s)
			rest -= s
		}
	}
	if rest > 0 {
		out = append(out, rest)
	}
	return out
}

func (g *gen) users(n int) {
	r := g.r
	width := numberWidth(n, 4)
	for i := range n {
		first, last := pick(r, firstNames), pick(r, lastNames)
		u := user{
			name:        fmt.Sprintf("%s.%s-%0*d", first, last, width, i),
			displayName: titleCase(first, last),
		}
		// Most people sit in one team; some also belong to a second team or a wider group.
		want := min(1+weighted(r, 30, 40, 30), len(g.m.groups))
		u.memberOf = append(u.memberOf, pick(r, g.m.teams))
		for tries := 0; len(u.memberOf) < want && tries < 10; tries++ {
			grp := r.IntN(len(g.m.groups))
			if r.IntN(2) == 0 {
				grp = pick(r, g.m.teams)
			}
			if !slices.Contains(u.memberOf, grp) {
				u.memberOf = append(u.memberOf, grp)
			}
		}
		for _, grp := range u.memberOf {
			g.m.groups[grp].members = append(g.m.groups[grp].members, i)
		}
		g.m.edges += len(u.memberOf)
		g.m.declared += 2 * len(u.memberOf) // spec.memberOf on the user, spec.members on the group
		g.m.users = append(g.m.users, u)
	}
}

func (g *gen) domains(n int) {
	r := g.r
	// Domains belong to the groups above the teams, as they do in real organisations.
	owners := make([]int, 0, len(g.m.groups)-len(g.m.teams))
	for i := range len(g.m.groups) - len(g.m.teams) {
		owners = append(owners, i)
	}
	if len(owners) == 0 {
		owners = g.m.teams
	}
	order := r.Perm(len(areas))
	width := numberWidth(n, 2)
	for i := range n {
		area := areas[order[i%len(order)]]
		d := domain{
			name:  fmt.Sprintf("%s-domain-%0*d", area, width, i),
			title: titleCase(area, "domain", strconv.Itoa(i)),
			area:  area,
			owner: pick(r, owners),
		}
		d.description = g.description(area, "")
		g.m.edges++
		g.m.declared++
		g.m.domains = append(g.m.domains, d)
	}
}

func (g *gen) systems(n int) {
	r := g.r
	width := numberWidth(n, 4)
	for i := range n {
		s := system{domain: i % len(g.m.domains), owner: pick(r, g.m.teams)}
		s.area = g.m.domains[s.domain].area
		if r.IntN(5) == 0 {
			s.area = pick(r, areas)
		}
		word := pick(r, systemWords)
		s.codename = g.codenames.pick(r)
		s.name = fmt.Sprintf("%s-%s-%0*d", s.area, word, width, i)
		s.title = titleCase(s.area, word, strconv.Itoa(i))
		s.description = g.description(s.area, s.codename)
		g.m.edges += 2 // owner, domain
		g.m.declared += 2
		g.m.systems = append(g.m.systems, s)
	}
}

var resourceTypes = []struct {
	typ, short, title string
	weight            int
	tags              []string
}{
	{"database", "db", "database", 35, []string{"postgres", "mysql", "mongodb", "dynamodb"}},
	{"kafka-topic", "topic", "topic", 20, []string{"kafka"}},
	{"cache", "cache", "cache", 15, []string{"redis", "memcached"}},
	{"s3-bucket", "bucket", "bucket", 15, []string{"s3", "gcs"}},
	{"queue", "queue", "queue", 10, []string{"sqs", "rabbitmq"}},
	{"search-index", "index", "search index", 5, []string{"elasticsearch", "opensearch"}},
}

func (g *gen) resources(n int) {
	r := g.r
	weights := make([]int, len(resourceTypes))
	for i, t := range resourceTypes {
		weights[i] = t.weight
	}
	width := numberWidth(n, 4)
	for i := range n {
		rt := resourceTypes[weighted(r, weights...)]
		sys := i % len(g.m.systems)
		s := &g.m.systems[sys]
		res := resource{typ: rt.typ, system: sys, owner: g.ownerFor(s)}
		noun := g.nouns.pick(r)
		res.name = fmt.Sprintf("%s-%s-%s-%0*d", s.area, noun, rt.short, width, i)
		res.title = titleCase(s.area, noun, rt.title, strconv.Itoa(i))
		res.description = g.description(s.area, s.codename)
		res.tags = []string{pick(r, rt.tags), rt.typ}
		// Resources depend on earlier ones (a topic on its cluster, an index on its database),
		// never on later ones, so the resource graph has no cycles.
		for range weighted(r, 30, 40, 30) {
			if i == 0 {
				break
			}
			if d := r.IntN(i); !slices.Contains(res.dependsOn, d) {
				res.dependsOn = append(res.dependsOn, d)
			}
		}
		g.m.edges += 2 + len(res.dependsOn)
		g.m.declared += 2 + len(res.dependsOn)
		s.resources = append(s.resources, i)
		g.m.resources = append(g.m.resources, res)
	}
}

// ownerFor picks the owner of something in system s: usually the system's own team.
func (g *gen) ownerFor(s *system) int {
	if g.r.IntN(10) == 0 {
		return pick(g.r, g.m.teams)
	}
	return s.owner
}

var lifecycles = []string{"production", "experimental", "deprecated"}

var apiTypes = []struct {
	typ, short, title string
	weight            int
}{
	{"openapi", "api", "API", 55},
	{"grpc", "grpc", "gRPC API", 20},
	{"asyncapi", "events", "Events", 15},
	{"graphql", "graphql", "GraphQL API", 10},
}

func (g *gen) apis(n int) {
	r := g.r
	weights := make([]int, len(apiTypes))
	for i, t := range apiTypes {
		weights[i] = t.weight
	}
	width := numberWidth(n, 4)
	for i := range n {
		at := apiTypes[weighted(r, weights...)]
		sys := i % len(g.m.systems)
		s := &g.m.systems[sys]
		a := api{
			typ: at.typ, system: sys, owner: g.ownerFor(s), area: s.area, noun: g.nouns.pick(r),
			lifecycle: lifecycles[weighted(r, 75, 15, 10)],
		}
		a.name = fmt.Sprintf("%s-%s-%s-%0*d", a.area, a.noun, at.short, width, i)
		a.title = titleCase(a.area, a.noun) + " " + at.title + " " + strconv.Itoa(i)
		a.description = g.description(a.area, s.codename)
		a.tags = []string{at.typ, a.area}
		g.m.edges += 2
		g.m.declared += 2
		s.apis = append(s.apis, i)
		g.m.apis = append(g.m.apis, a)
	}
}

var componentTypes = []struct {
	typ, short, title string
	weight            int
}{
	{"service", "svc", "service", 60},
	{"website", "web", "website", 10},
	{"library", "lib", "library", 15},
	{"worker", "worker", "worker", 15},
}

func (g *gen) components(n int) {
	r := g.r
	weights := make([]int, len(componentTypes))
	for i, t := range componentTypes {
		weights[i] = t.weight
	}
	width := numberWidth(n, 4)
	for i := range n {
		ct := componentTypes[weighted(r, weights...)]
		sys := i % len(g.m.systems)
		s := &g.m.systems[sys]
		c := component{
			typ: ct.typ, system: sys, owner: g.ownerFor(s), subcomponentOf: -1,
			lifecycle: lifecycles[weighted(r, 70, 20, 10)],
		}
		area := s.area
		if r.IntN(10) < 3 {
			area = pick(r, areas)
		}
		noun := g.nouns.pick(r)
		c.name = fmt.Sprintf("%s-%s-%s-%0*d", area, noun, ct.short, width, i)
		c.title = titleCase(area, noun, ct.title, strconv.Itoa(i))
		c.description = g.description(area, s.codename)
		c.tags = g.componentTags()
		c.argoCD = ct.typ != "library" && r.IntN(10) < 6

		// A few components are parts of an earlier one in the same system.
		if len(s.components) > 0 && r.IntN(100) < 4 {
			c.subcomponentOf = pick(r, s.components)
		}
		// dependsOn: one or two of the system's resources, the rest earlier components (half of
		// them in the same system), so the dependency graph is acyclic like most real ones.
		want := 3 + r.IntN(4)
		for range 1 + r.IntN(2) {
			if len(s.resources) > 0 {
				c.addDep(dep{resource: true, i: pick(r, s.resources)})
			}
		}
		for tries := 0; len(c.dependsOn) < want && tries < 3*want; tries++ {
			switch {
			case i > 0 && r.IntN(2) == 0 && len(s.components) > 0:
				c.addDep(dep{i: pick(r, s.components)})
			case i > 0:
				c.addDep(dep{i: r.IntN(i)})
			default:
				c.addDep(dep{resource: true, i: r.IntN(len(g.m.resources))})
			}
		}
		// consumesApis: two to five, from anywhere.
		wantAPIs := min(2+r.IntN(4), len(g.m.apis))
		for tries := 0; len(c.consumesAPIs) < wantAPIs && tries < 3*wantAPIs; tries++ {
			if a := r.IntN(len(g.m.apis)); !slices.Contains(c.consumesAPIs, a) {
				c.consumesAPIs = append(c.consumesAPIs, a)
			}
		}
		s.components = append(s.components, i)
		g.m.components = append(g.m.components, c)
	}
	// providesApis: every API gets a provider in its own system, then components take up to two
	// in all, so most APIs have one provider and some have several.
	for _, s := range g.m.systems {
		if len(s.components) == 0 {
			continue
		}
		for j, a := range s.apis {
			c := &g.m.components[s.components[j%len(s.components)]]
			c.providesAPIs = append(c.providesAPIs, a)
		}
		for _, ci := range s.components {
			c := &g.m.components[ci]
			want := weighted(r, 30, 45, 25)
			for tries := 0; len(c.providesAPIs) < want && tries < 4 && len(s.apis) > 0; tries++ {
				if a := pick(r, s.apis); !slices.Contains(c.providesAPIs, a) {
					c.providesAPIs = append(c.providesAPIs, a)
				}
			}
			slices.Sort(c.providesAPIs)
		}
	}
	for _, c := range g.m.components {
		n := 2 + len(c.dependsOn) + len(c.providesAPIs) + len(c.consumesAPIs)
		if c.subcomponentOf >= 0 {
			n++
		}
		g.m.edges += n
		g.m.declared += n
	}
}

func (c *component) addDep(d dep) {
	if !slices.Contains(c.dependsOn, d) {
		c.dependsOn = append(c.dependsOn, d)
	}
}

// componentTags gives a language, a tier and up to two more tags, as teams tend to tag.
func (g *gen) componentTags() []string {
	r := g.r
	tags := []string{g.languages.pick(r), tierTags[weighted(r, 45, 35, 20)]}
	for range r.IntN(3) {
		if t := g.others.pick(r); !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}

// description writes 8 to 15 words that read like a one-line summary of what something does, and
// which project it belongs to when there is one.
func (g *gen) description(area, project string) string {
	r := g.r
	words := make([]string, 0, 16)
	words = append(words, g.verbs.pick(r), g.adjectives.pick(r), area, g.objects.pick(r), "for", g.audiences.pick(r))
	if project != "" {
		words = append(words, "in", "project", project)
	}
	clauses := [][]string{
		{"using", g.technologies.pick(r)},
		{"and", g.verbs.pick(r), g.objects.pick(r)},
		{"in", "the", g.regions.pick(r), "region"},
		{"with", g.guarantees.pick(r), "guarantees"},
	}
	r.Shuffle(len(clauses), func(i, j int) { clauses[i], clauses[j] = clauses[j], clauses[i] })
	target := 8 + r.IntN(8)
	for _, cl := range clauses {
		if len(words)+len(cl) <= target {
			words = append(words, cl...)
		}
	}
	for len(words) < 8 {
		words = append(words, g.adverbs.pick(r))
	}
	s := strings.Join(words, " ") + "."
	return strings.ToUpper(s[:1]) + s[1:]
}

func (g *gen) queries(seed uint64) {
	r, m := g.r, g.m
	q := queries{Seed: seed, SearchMatches: map[string]int{}}
	for _, i := range r.Perm(len(m.components))[:min(200, len(m.components))] {
		q.Components = append(q.Components, "component:default/"+m.components[i].name)
		if m.components[i].argoCD {
			q.Deployed = append(q.Deployed, "component:default/"+m.components[i].name)
			m.components[i].pipeline = true
		}
	}
	owns := make([]bool, len(m.groups))
	for _, c := range m.components {
		owns[c.owner] = true
	}
	var owners []int
	for i, ok := range owns {
		if ok {
			owners = append(owners, i)
		}
	}
	for _, i := range r.Perm(len(owners))[:min(100, len(owners))] {
		q.Owners = append(q.Owners, "group:default/"+m.groups[owners[i]].name)
	}
	q.SearchWords = m.searchWords(q.SearchMatches)
	m.queries = q
}

// searchWords picks up to 100 vocabulary words that match between 0.1 % and 5 % of the components
// (10 and 500 of the default 10,000) both as whole words and as substrings, spread from rare to
// common, and records their whole-word counts. The share, not a count, is what stays fixed: in a
// catalog of a million entities every vocabulary word matches far more than 500 components.
func (m *model) searchWords(matches map[string]int) []string {
	const want = 100
	least, most := max(10, len(m.components)/1000), max(500, len(m.components)/20)
	var candidates []string
	for _, list := range [][]string{areas, nouns, verbs, adjectives, objects, audiences, technologies,
		guarantees, regions, adverbs, languageTags, otherTags, codenames} {
		for _, w := range list {
			if len(w) >= 3 && !strings.Contains(w, "-") && !slices.Contains(candidates, w) {
				candidates = append(candidates, w)
			}
		}
	}
	index := make(map[string]int, len(candidates))
	for i, w := range candidates {
		index[w] = i
	}
	texts := make([]string, len(m.components))
	wordCount := make([]int, len(candidates))
	seen := make([]int, len(candidates)) // last component that counted each word, +1
	for ci, c := range m.components {
		text := strings.ToLower(c.name + " " + c.title + " " + c.description + " " + strings.Join(c.tags, " "))
		texts[ci] = text
		for _, tok := range strings.FieldsFunc(text, func(r rune) bool {
			return (r < 'a' || r > 'z') && (r < '0' || r > '9')
		}) {
			if wi, ok := index[tok]; ok && seen[wi] != ci+1 {
				seen[wi] = ci + 1
				wordCount[wi]++
			}
		}
	}
	type scored struct {
		word  string
		count int
	}
	var ok []scored
	for wi, w := range candidates {
		if wordCount[wi] < least || wordCount[wi] > most {
			continue
		}
		sub := 0
		for _, t := range texts {
			if strings.Contains(t, w) {
				sub++
			}
		}
		if sub <= most {
			ok = append(ok, scored{w, wordCount[wi]})
		}
	}
	sort.Slice(ok, func(i, j int) bool {
		if ok[i].count != ok[j].count {
			return ok[i].count < ok[j].count
		}
		return ok[i].word < ok[j].word
	})
	var out []string
	for k := range min(want, len(ok)) {
		s := ok[k*len(ok)/min(want, len(ok))]
		out = append(out, s.word)
		matches[s.word] = s.count
	}
	slices.Sort(out)
	return out
}

// written is what write produced.
type written struct {
	shards int
	bytes  int64
}

// write replaces the catalog in dir. Old shards are removed first: the Location's glob would
// otherwise pick up shards left by an earlier, larger run.
func (m *model) write(dir string, perShard int, seed uint64) (written, error) {
	var out written
	shardDir := filepath.Join(dir, "shards")
	if err := os.MkdirAll(shardDir, 0o755); err != nil {
		return out, err
	}
	old, err := filepath.Glob(filepath.Join(shardDir, "shard-*.yaml"))
	if err != nil {
		return out, err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return out, err
		}
	}

	total := len(m.groups) + len(m.users) + len(m.domains) + len(m.systems) + len(m.resources) + len(m.apis) + len(m.components)
	sw := &shardWriter{dir: shardDir, perShard: perShard, width: max(4, len(strconv.Itoa((total+perShard-1)/perShard)))}
	for i := range m.groups {
		m.writeGroup(sw.next(), i)
	}
	for i := range m.users {
		m.writeUser(sw.next(), i)
	}
	for i := range m.domains {
		m.writeDomain(sw.next(), i)
	}
	for i := range m.systems {
		m.writeSystem(sw.next(), i)
	}
	for i := range m.resources {
		m.writeResource(sw.next(), i)
	}
	if m.bigFile {
		sw.oneFile()
	}
	for i := range m.apis {
		m.writeAPI(sw.next(), i)
	}
	for i := range m.components {
		m.writeComponent(sw.next(), i)
	}
	if err := sw.close(); err != nil {
		return out, err
	}
	out.shards, out.bytes = sw.files, sw.bytes

	location := fmt.Sprintf(`# Generated by bench/gencatalog (seed %d). Regenerate rather than edit.
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: generated-catalog
  description: %s
spec:
  targets:
    - ./shards/*.yaml
`, seed, strconv.Quote(fmt.Sprintf("Synthetic catalog of %d components, %d APIs, %d resources, %d systems, %d domains, %d groups and %d users.",
		len(m.components), len(m.apis), len(m.resources), len(m.systems), len(m.domains), len(m.groups), len(m.users))))
	if err := os.WriteFile(filepath.Join(dir, "catalog-info.yaml"), []byte(location), 0o644); err != nil {
		return out, err
	}
	out.bytes += int64(len(location))

	q, err := json.MarshalIndent(m.queries, "", "  ")
	if err != nil {
		return out, err
	}
	q = append(q, '\n')
	if err := os.WriteFile(filepath.Join(dir, "queries.json"), q, 0o644); err != nil {
		return out, err
	}
	out.bytes += int64(len(q))
	return out, nil
}

// shardWriter spreads documents over shard files of perShard documents each.
type shardWriter struct {
	dir             string
	perShard, width int
	f               *os.File
	w               *bufio.Writer
	n               int // documents in the current shard
	files           int
	bytes           int64
	err             error
	fresh           bool // start a new shard with the next document
}

// oneFile puts every later document into one new shard.
func (s *shardWriter) oneFile() {
	s.perShard, s.fresh = math.MaxInt, true
}

// next returns the writer for the next document, starting a new shard when the current one is full.
func (s *shardWriter) next() *yamlWriter {
	if s.err != nil {
		return &yamlWriter{w: bufio.NewWriter(io.Discard)}
	}
	if s.f == nil || s.n == s.perShard || s.fresh {
		s.fresh = false
		if err := s.close(); err != nil {
			return &yamlWriter{w: bufio.NewWriter(io.Discard)}
		}
		s.files++
		s.f, s.err = os.Create(filepath.Join(s.dir, fmt.Sprintf("shard-%0*d.yaml", s.width, s.files)))
		if s.err != nil {
			return &yamlWriter{w: bufio.NewWriter(io.Discard)}
		}
		s.w = bufio.NewWriterSize(s.f, 256<<10)
		s.n = 0
	}
	if s.n > 0 {
		s.w.WriteString("---\n")
	}
	s.n++
	return &yamlWriter{w: s.w}
}

func (s *shardWriter) close() error {
	if s.f == nil || s.err != nil {
		return s.err
	}
	if err := s.w.Flush(); err != nil {
		s.err = err
	}
	if st, err := s.f.Stat(); err == nil {
		s.bytes += st.Size()
	}
	if err := s.f.Close(); err != nil && s.err == nil {
		s.err = err
	}
	s.f = nil
	return s.err
}

// yamlWriter emits the few YAML shapes a catalog document needs. Names and refs are generated
// from a safe alphabet and written plain; free text is double-quoted.
type yamlWriter struct {
	w   *bufio.Writer
	buf []byte
}

func (y *yamlWriter) header(kind, name, title, description string) {
	y.w.WriteString("apiVersion: backstage.io/v1alpha1\nkind: ")
	y.w.WriteString(kind)
	y.w.WriteString("\nmetadata:\n  name: ")
	y.w.WriteString(name)
	y.w.WriteString("\n  title: ")
	y.quoted(title)
	y.w.WriteString("\n  description: ")
	y.quoted(description)
	y.w.WriteByte('\n')
}

func (y *yamlWriter) quoted(s string) {
	y.buf = strconv.AppendQuote(y.buf[:0], s)
	y.w.Write(y.buf)
}

// field writes "<indent>key: value".
func (y *yamlWriter) field(indent, key, value string) {
	y.w.WriteString(indent)
	y.w.WriteString(key)
	y.w.WriteString(": ")
	y.w.WriteString(value)
	y.w.WriteByte('\n')
}

// flow writes "<indent>key: [a, b]"; an empty list is written as [] because Backstage requires
// some lists (a group's children) to be present.
func (y *yamlWriter) flow(indent, key string, items []string) {
	y.w.WriteString(indent)
	y.w.WriteString(key)
	y.w.WriteString(": [")
	for i, it := range items {
		if i > 0 {
			y.w.WriteString(", ")
		}
		y.w.WriteString(it)
	}
	y.w.WriteString("]\n")
}

// refs writes "  key:" and one "    - prefix+name" line per item; nothing when there are none.
func (y *yamlWriter) refs(key string, n int, item func(i int) (prefix, name string)) {
	if n == 0 {
		return
	}
	y.w.WriteString("  ")
	y.w.WriteString(key)
	y.w.WriteString(":\n")
	for i := range n {
		prefix, name := item(i)
		y.w.WriteString("    - ")
		y.w.WriteString(prefix)
		y.w.WriteString(name)
		y.w.WriteByte('\n')
	}
}

func (m *model) writeGroup(y *yamlWriter, i int) {
	g := &m.groups[i]
	y.header("Group", g.name, g.title, fmt.Sprintf("The %s.", g.title))
	y.w.WriteString("spec:\n")
	y.field("  ", "type", g.typ)
	y.w.WriteString("  profile:\n")
	y.w.WriteString("    displayName: ")
	y.quoted(g.title)
	y.w.WriteString("\n    email: ")
	y.w.WriteString(g.name)
	y.w.WriteString("@acme.example\n")
	if g.parent >= 0 {
		y.field("  ", "parent", m.groups[g.parent].name)
	}
	children := make([]string, len(g.children))
	for k, c := range g.children {
		children[k] = m.groups[c].name
	}
	y.flow("  ", "children", children)
	y.refs("members", len(g.members), func(k int) (string, string) { return "", m.users[g.members[k]].name })
}

func (m *model) writeUser(y *yamlWriter, i int) {
	u := &m.users[i]
	y.w.WriteString("apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: ")
	y.w.WriteString(u.name)
	y.w.WriteString("\nspec:\n  profile:\n    displayName: ")
	y.quoted(u.displayName)
	y.w.WriteString("\n    email: ")
	y.w.WriteString(u.name)
	y.w.WriteString("@acme.example\n")
	y.refs("memberOf", len(u.memberOf), func(k int) (string, string) { return "", m.groups[u.memberOf[k]].name })
}

func (m *model) writeDomain(y *yamlWriter, i int) {
	d := &m.domains[i]
	y.header("Domain", d.name, d.title, d.description)
	y.flow("  ", "tags", []string{d.area})
	y.w.WriteString("spec:\n")
	y.field("  ", "owner", m.groups[d.owner].name)
}

func (m *model) writeSystem(y *yamlWriter, i int) {
	s := &m.systems[i]
	y.header("System", s.name, s.title, s.description)
	y.flow("  ", "tags", []string{s.area})
	y.w.WriteString("spec:\n")
	y.field("  ", "owner", m.groups[s.owner].name)
	y.field("  ", "domain", m.domains[s.domain].name)
}

func (m *model) writeResource(y *yamlWriter, i int) {
	res := &m.resources[i]
	y.header("Resource", res.name, res.title, res.description)
	y.flow("  ", "tags", res.tags)
	y.w.WriteString("spec:\n")
	y.field("  ", "type", res.typ)
	y.field("  ", "owner", m.groups[res.owner].name)
	y.field("  ", "system", m.systems[res.system].name)
	y.refs("dependsOn", len(res.dependsOn), func(k int) (string, string) {
		return "resource:", m.resources[res.dependsOn[k]].name
	})
}

func (m *model) writeAPI(y *yamlWriter, i int) {
	a := &m.apis[i]
	y.header("API", a.name, a.title, a.description)
	y.flow("  ", "tags", a.tags)
	y.w.WriteString("  annotations:\n")
	y.field("    ", "github.com/project-slug", "acme/"+m.systems[a.system].name)
	y.w.WriteString("spec:\n")
	y.field("  ", "type", a.typ)
	y.field("  ", "lifecycle", a.lifecycle)
	y.field("  ", "owner", m.groups[a.owner].name)
	y.field("  ", "system", m.systems[a.system].name)
	y.w.WriteString("  definition: |\n")
	writeDefinition(y.w, a, m.openAPIPaths)
}

// writeDefinition writes a short but well-formed definition of the API's type, indented for a
// block scalar under spec.definition.
func writeDefinition(w *bufio.Writer, a *api, openAPIPaths int) {
	const in = "    "
	noun, title := a.noun, a.title
	camel := strings.ToUpper(noun[:1]) + noun[1:]
	switch a.typ {
	case "openapi":
		fmt.Fprintf(w, in+"openapi: 3.0.3\n"+in+"info:\n"+in+"  title: %s\n"+in+"  version: 1.0.0\n"+
			in+"paths:\n"+in+"  /%ss/{id}:\n"+in+"    get:\n"+in+"      summary: Get a %s\n"+
			in+"      parameters:\n"+in+"        - name: id\n"+in+"          in: path\n"+in+"          required: true\n"+
			in+"          schema:\n"+in+"            type: string\n"+
			in+"      responses:\n"+in+"        \"200\":\n"+in+"          description: The %s\n"+
			in+"        \"404\":\n"+in+"          description: Not found\n", strconv.Quote(title), noun, noun, noun)
		if openAPIPaths > 1 {
			writeOpenAPIPaths(w, in, noun, camel, openAPIPaths-1)
		}
	case "grpc":
		fmt.Fprintf(w, in+"syntax = \"proto3\";\n"+in+"package acme.%s.v1;\n"+in+"service %s {\n"+
			in+"  rpc Get(Get%sRequest) returns (%s);\n"+in+"}\n"+
			in+"message Get%sRequest {\n"+in+"  string id = 1;\n"+in+"}\n"+
			in+"message %s {\n"+in+"  string id = 1;\n"+in+"  string name = 2;\n"+in+"}\n",
			a.area, camel, camel, camel, camel, camel)
	case "asyncapi":
		fmt.Fprintf(w, in+"asyncapi: 2.6.0\n"+in+"info:\n"+in+"  title: %s\n"+in+"  version: 1.0.0\n"+
			in+"channels:\n"+in+"  %s.%s.v1:\n"+in+"    subscribe:\n"+in+"      message:\n"+
			in+"        payload:\n"+in+"          type: object\n"+in+"          properties:\n"+
			in+"            id:\n"+in+"              type: string\n"+in+"            occurredAt:\n"+
			in+"              type: string\n"+in+"              format: date-time\n",
			strconv.Quote(title), a.area, noun)
	case "graphql":
		fmt.Fprintf(w, in+"type Query {\n"+in+"  %s(id: ID!): %s\n"+in+"}\n"+
			in+"type %s {\n"+in+"  id: ID!\n"+in+"  name: String!\n"+in+"}\n", noun, camel, camel)
	}
}

// subResources name the extra paths of a large OpenAPI definition.
var subResources = []string{"history", "events", "settings", "members", "notes", "attachments", "links",
	"limits", "quotas", "versions", "audits", "tags", "comments", "approvals", "exports", "imports",
	"schedules", "metrics", "alerts", "owners"}

// writeOpenAPIPaths writes n more paths, each a sub-resource with a list and an update operation,
// and the schemas they refer to: the bulk of a real service's inline OpenAPI definition (about
// 300 bytes a path).
func writeOpenAPIPaths(w *bufio.Writer, in, noun, camel string, n int) {
	name := func(k int) string {
		if k < len(subResources) {
			return subResources[k]
		}
		return subResources[k%len(subResources)] + strconv.Itoa(k/len(subResources))
	}
	for k := range n {
		sub := name(k)
		schema := camel + strings.ToUpper(sub[:1]) + sub[1:]
		fmt.Fprintf(w, in+"  /%ss/{id}/%s:\n"+in+"    get:\n"+in+"      summary: List the %s of a %s\n"+
			in+"      parameters:\n"+in+"        - name: id\n"+in+"          in: path\n"+in+"          required: true\n"+
			in+"          schema:\n"+in+"            type: string\n"+in+"        - name: pageToken\n"+in+"          in: query\n"+
			in+"          schema:\n"+in+"            type: string\n"+
			in+"      responses:\n"+in+"        \"200\":\n"+in+"          description: A page of %s\n"+
			in+"          content:\n"+in+"            application/json:\n"+in+"              schema:\n"+
			in+"                type: array\n"+in+"                items:\n"+in+"                  $ref: \"#/components/schemas/%s\"\n"+
			in+"    put:\n"+in+"      summary: Replace the %s of a %s\n"+in+"      requestBody:\n"+in+"        required: true\n"+
			in+"        content:\n"+in+"          application/json:\n"+in+"            schema:\n"+
			in+"              $ref: \"#/components/schemas/%s\"\n"+
			in+"      responses:\n"+in+"        \"204\":\n"+in+"          description: Replaced\n",
			noun, sub, sub, noun, sub, schema, sub, noun, schema)
	}
	w.WriteString(in + "components:\n" + in + "  schemas:\n")
	for k := range n {
		sub := name(k)
		fmt.Fprintf(w, in+"    %s%s:\n"+in+"      type: object\n"+in+"      required: [id]\n"+in+"      properties:\n"+
			in+"        id:\n"+in+"          type: string\n"+in+"        createdAt:\n"+in+"          type: string\n"+in+"          format: date-time\n"+
			in+"        description:\n"+in+"          type: string\n",
			camel, strings.ToUpper(sub[:1])+sub[1:])
	}
}

// pipelinesAnnotation is the portside.dev/pipelines annotation of the deployed components the load
// driver asks for: one GitHub Actions workflow of four stages (a YAML flow sequence on one line).
const pipelinesAnnotation = `'[{"name": "release", "provider": "github", "workflow": "release.yaml", "stages": ["Build", "Test", "Release", "Deploy"]}]'`

func (m *model) writeComponent(y *yamlWriter, i int) {
	c := &m.components[i]
	y.header("Component", c.name, c.title, c.description)
	y.flow("  ", "tags", c.tags)
	y.w.WriteString("  annotations:\n")
	y.field("    ", "github.com/project-slug", "acme/"+c.name)
	y.field("    ", "backstage.io/techdocs-ref", "dir:.")
	if c.argoCD {
		y.field("    ", "argocd/app-name", c.name)
	}
	if c.pipeline {
		y.field("    ", "portside.dev/pipelines", pipelinesAnnotation)
	}
	y.w.WriteString("spec:\n")
	y.field("  ", "type", c.typ)
	y.field("  ", "lifecycle", c.lifecycle)
	y.field("  ", "owner", m.groups[c.owner].name)
	y.field("  ", "system", m.systems[c.system].name)
	if c.subcomponentOf >= 0 {
		y.field("  ", "subcomponentOf", m.components[c.subcomponentOf].name)
	}
	y.refs("dependsOn", len(c.dependsOn), func(k int) (string, string) {
		if d := c.dependsOn[k]; d.resource {
			return "resource:", m.resources[d.i].name
		}
		return "component:", m.components[c.dependsOn[k].i].name
	})
	y.refs("providesApis", len(c.providesAPIs), func(k int) (string, string) { return "", m.apis[c.providesAPIs[k]].name })
	y.refs("consumesApis", len(c.consumesAPIs), func(k int) (string, string) { return "", m.apis[c.consumesAPIs[k]].name })
}

func (m *model) summary(w io.Writer, cfg config, out written, took time.Duration) {
	entities := len(m.groups) + len(m.users) + len(m.domains) + len(m.systems) + len(m.resources) + len(m.apis) + len(m.components)
	fmt.Fprintf(w, "gencatalog: seed %d, scale %g -> %s\n", cfg.seed, cfg.scale, cfg.out)
	for _, kv := range []struct {
		kind string
		n    int
	}{
		{"components", len(m.components)}, {"apis", len(m.apis)}, {"resources", len(m.resources)},
		{"systems", len(m.systems)}, {"domains", len(m.domains)}, {"groups", len(m.groups)},
		{"users", len(m.users)}, {"entities", entities},
	} {
		fmt.Fprintf(w, "  %-10s %9d\n", kv.kind, kv.n)
	}
	fmt.Fprintf(w, "  %-10s %9d declared (%d distinct edges, each with an inverse)\n", "relations", m.declared, m.edges)
	fmt.Fprintf(w, "  %-10s %9d shards of up to %d documents, catalog-info.yaml, queries.json\n", "files", out.shards, cfg.perShard)
	fmt.Fprintf(w, "  %-10s %9d (%.1f MiB)\n", "bytes", out.bytes, float64(out.bytes)/(1<<20))
	fmt.Fprintf(w, "  %-10s %9d components, %d owners, %d search words\n", "queries",
		len(m.queries.Components), len(m.queries.Owners), len(m.queries.SearchWords))
	fmt.Fprintf(w, "  %-10s %9s\n", "time", took.Round(time.Millisecond))
}

// zipf samples words with weight 1/rank^s, so the first words of a list are common and the last
// rare, as in real text.
type zipf struct {
	words []string
	cum   []float64
}

func newZipf(words []string, s float64) *zipf {
	z := &zipf{words: words, cum: make([]float64, len(words))}
	total := 0.0
	for i := range words {
		total += math.Pow(float64(i+1), -s)
		z.cum[i] = total
	}
	return z
}

func (z *zipf) pick(r *rand.Rand) string {
	x := r.Float64() * z.cum[len(z.cum)-1]
	return z.words[min(sort.SearchFloat64s(z.cum, x), len(z.words)-1)]
}

// numberWidth is how many digits the numbers 0..n-1 in names take, at least least: zero-padded,
// names sort in generation order.
func numberWidth(n, least int) int { return max(least, len(strconv.Itoa(max(n-1, 0)))) }

// pick returns a uniformly chosen element.
func pick[T any](r *rand.Rand, from []T) T { return from[r.IntN(len(from))] }

// weighted returns an index chosen with the given relative weights.
func weighted(r *rand.Rand, weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := r.IntN(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// titleCase capitalises and joins words: ("payments", "ledger", "service") -> "Payments Ledger Service".
func titleCase(words ...string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]))
			b.WriteString(w[1:])
		}
	}
	return b.String()
}
