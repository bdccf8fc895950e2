package catalog

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/portside-dev/portside/store"
)

// The counts the database keeps of entities (entity_counts, migration 00019) while an apply
// writes them. Statement triggers on entities keep them, one grouped upsert per COPY, INSERT or
// DELETE. An import writes its entities in hundreds of statements, and each one upserted much the
// same count rows again (kind Component, namespace default, every owner seen so far): inside one
// transaction no version of those rows can be pruned before the commit, so each upsert walked
// longer chains (a million-entity import: 756,526 versions of 141,307 rows, 301 s → 418 s).
//
// So on PostgreSQL an apply tells the trigger to stand aside (the transaction's setting
// portside.entity_counts = 'recount', which the trigger reads since migration 00020; the value
// is named for the recount this once was) and counts what it writes itself: every entity row it
// inserts adds one to each of its values, every row it deletes (read back with RETURNING) takes
// one away, and before it commits the differences are added to the kept counts in one upsert.
// That costs what the apply wrote, where the grouped recount of the whole catalog it replaces
// cost the catalog's size whatever was written (9 s at a million entities, the import's longest
// step after the index builds), and it needs no lock: differences commute with whatever another
// writer's trigger adds (an older release's unregister, which does not take the apply lock).
// Every other writer, an older release included, is counted by the trigger as before. The rows
// are written in key order, as the totals' triggers write theirs.
//
// The totals over kinds (entity_totals, migration 00021), which facets over the whole catalog
// read, are on PostgreSQL a table that follows entity_counts through triggers of their own on it,
// whichever release writes the counts: they follow the apply's one upsert too. On SQLite
// entity_totals is a view summing entity_counts: nothing to keep.
//
// SQLite keeps its row triggers (a few cheap upserts per entity written): its imports are small,
// the embedded default being for catalogs that fit in memory, and the bench catalog's 16,851
// entities imported within noise of the time without counts.

// entityCountsSetting is the transaction setting the trigger of migration 00020 reads.
const entityCountsSetting = "portside.entity_counts"

// prefixCountsSetting is the one the triggers of migration 00025 read: a setting of its own, as
// a release older than 00025 sets portside.entity_counts and knows nothing of the prefix counts
// (during a rolling upgrade its applies are counted by the triggers).
const prefixCountsSetting = "portside.entity_prefix_counts"

// shapeCountsSetting is the one the triggers of migration 00028 read, for the same reason.
const shapeCountsSetting = "portside.entity_shape_counts"

// tagCountsSetting is the one the triggers of migration 00032 read, for the same reason.
const tagCountsSetting = "portside.entity_tag_counts"

// shapeRefsSetting is the one the triggers of migration 00033 read, for the same reason.
const shapeRefsSetting = "portside.entity_shape_refs"

// rollupsSetting is the one the triggers of migration 00034 read, for the same reason.
const rollupsSetting = "portside.entity_shape_ref_rollups"

// countKey is one kept count: a value of a field among the entities of a kind.
type countKey struct{ field, kind, value string }

// shapeKey is one count of entity_shape_counts as an apply counts it on PostgreSQL (migration
// 00028): the entities of a kind, namespace, type and lifecycle (an empty tag), or those of them
// listing a tag.
type shapeKey struct{ kind, namespace, specType, lifecycle, tag string }

// tagKey is one count of entity_tag_counts as an apply counts it on PostgreSQL (migration
// 00032): the entities of a kind (every kind: "") listing a tag whose field (tagOwner,
// tagSystem, tagTag) is a value. The strings are numbered (tagNames): a million-entity import counts 1.5 million of
// these, which as four strings each took about 150 MB more of the import's heap.
type tagKey struct {
	tag, kind, value uint32
	field            uint8
}

// The fields of entity_tag_counts, in the order its key sorts them.
const (
	tagOwner uint8 = iota
	tagSystem
	tagTag
)

// tagFields names them as the table does.
var tagFields = [...]string{tagOwner: "owner", tagSystem: "system", tagTag: "tag"}

// refKey is one count of entity_shape_refs as an apply counts it on PostgreSQL (migration 00033):
// the entities of a type, lifecycle and kind (every kind: "") whose field (tagOwner or tagSystem)
// is a value, the strings numbered as tagKey's are.
type refKey struct {
	specType, lifecycle, kind, value uint32
	field                            uint8
}

// rollupKey is one count of entity_shape_ref_rollups as an apply counts it on PostgreSQL
// (migration 00034): the entities of a type (axis rollupType) or of a lifecycle (rollupLifecycle),
// whose axisValue it is, and of a kind (every kind: "") whose field (tagOwner or tagSystem) is a
// value, the strings numbered as tagKey's are. They are summed from the refKeys (rollups).
type rollupKey struct {
	axisValue, kind, value uint32
	field, axis            uint8
}

// The axes of entity_shape_ref_rollups, in the order its key sorts them.
const (
	rollupLifecycle uint8 = iota
	rollupType
)

// rollupAxes names them as the table does.
var rollupAxes = [...]string{rollupLifecycle: "lifecycle", rollupType: "type"}

// tagNames numbers the strings of tagKeys, refKeys and rollupKeys.
type tagNames struct {
	numbers map[string]uint32
	names   []string
}

// ranks are the places of the names numbered, in bytewise order, by number, and the names in
// that order.
func (n *tagNames) ranks() (rank []uint32, byRank []string) {
	byName := make([]uint32, len(n.names))
	for i := range byName {
		byName[i] = uint32(i)
	}
	slices.SortFunc(byName, func(a, b uint32) int { return strings.Compare(n.names[a], n.names[b]) })
	rank, byRank = make([]uint32, len(n.names)), make([]string, len(n.names))
	for r, i := range byName {
		rank[i], byRank[r] = uint32(r), n.names[i]
	}
	return rank, byRank
}

// number is the number of name, given it if it has none.
func (n *tagNames) number(name string) uint32 {
	if i, ok := n.numbers[name]; ok {
		return i
	}
	if n.numbers == nil {
		n.numbers = map[string]uint32{}
	}
	i := uint32(len(n.names))
	n.numbers[name], n.names = i, append(n.names, name)
	return i
}

// prefixCount is a difference to one count of entity_prefix_counts (migration 00025,
// PostgreSQL): the entities of a kind with a word starting with prefix.
type prefixCount struct {
	prefix, kind string
	entities     int64
}

// countKeeping counts one apply's writes of entities on PostgreSQL (the trigger counts them on
// SQLite). Used by apply, inside its transaction: add hands the entities written and deleted, a
// batch at a time, to a goroutine of their own (count), and finish writes what it counted.
// Counted on the apply's path, as each row was built for COPY, the counting (9 s of CPU at a
// million entities, most of it increments of maps too large for the processor's caches) held up
// the rows COPY waited for; counted apart, it keeps up with the rows where a core is free and
// catches up while the database builds the indexes a first import deferred, the one stretch of
// the import where Portside waits, and it sorts what it counted there too.
type countKeeping struct {
	s *Service
	// own is set once the trigger stands aside: the apply counts its writes from then on.
	own bool
	// entities takes the entities written and deleted to count; counted brings back what count
	// counted once entities is closed.
	entities chan []countedEntity
	batch    []countedEntity
	counted  chan *tallied
	stopped  atomic.Bool
}

// countedEntity is what is counted of an entity row written (by = 1) or deleted (-1).
type countedEntity struct {
	kind, namespace, specType, lifecycle, owner, system, tags, text string
	by                                                              int64
}

// countBatch is how many entities go to count at a time; countBatches how many batches it may
// be behind before the apply waits for it (4 million entities: a first import of a million is
// never held up, and what it counts of them is what the counting holds).
const (
	countBatch   = 1024
	countBatches = 4096
)

// tally is what count counts: the differences to each table of kept counts.
type tally struct {
	diff   map[countKey]int64
	shapes map[shapeKey]int64
	tags   map[tagKey]int64
	refs   map[refKey]int64
	names  tagNames
	words  wordCounter
}

// counted is a difference to one kept count.
type counted[K any] struct {
	key K
	n   int64
}

// tallied is a tally's non-zero differences, each table's in its key order (the strings compared
// as bytes). The names of tags' and refs' keys are numbered by rank: names[n] is name n, and the
// numbers compare as the names do.
type tallied struct {
	counts   []counted[countKey]
	shapes   []counted[shapeKey]
	tags     []counted[tagKey]
	refs     []counted[refKey]
	rollups  []counted[rollupKey]
	names    []string
	prefixes []prefixCount
}

// wordCounter counts entities by their words. The key is a word and two bytes saying how many
// of its first bytes the word before it (in the entity's words, sorted) has too, the value the
// index of its count in counts, per kind (kinds). A million-entity import counts fifteen words
// an entity by word (a million keys, most of them the numbers in the names) and derives the
// prefixes (ninety an entity) from them once at the end (prefixCounts): counted by prefix as
// they came, they took 29 s of CPU; by word about 4.
type wordCounter struct {
	kinds  []string
	words  []map[string]int
	counts []int64
	key    []byte // the key being looked up
}

func (s *Service) keepCounts() *countKeeping { return &countKeeping{s: s} }

// begin is called before each statement that writes entities: on PostgreSQL the first one has
// the trigger stand aside for the rest of the transaction, and starts count.
func (k *countKeeping) begin(ctx context.Context) error {
	if k.own || k.s.st.Dialect() != store.Postgres {
		return nil
	}
	if err := k.s.st.DB(ctx).Exec("SELECT set_config(?, 'recount', true), set_config(?, 'counted', true), set_config(?, 'counted', true), set_config(?, 'counted', true), set_config(?, 'counted', true), set_config(?, 'counted', true)",
		entityCountsSetting, prefixCountsSetting, shapeCountsSetting, tagCountsSetting, shapeRefsSetting, rollupsSetting).Error; err != nil {
		return store.Translate(err, "entity counts")
	}
	k.own = true
	k.entities, k.counted = make(chan []countedEntity, countBatches), make(chan *tallied, 1)
	k.batch = make([]countedEntity, 0, countBatch)
	go k.count(k.entities, k.counted)
	return nil
}

// count counts the entities it is given until entities is closed, then sends what it counted,
// sorted; nil once stop was called.
func (k *countKeeping) count(entities <-chan []countedEntity, out chan<- *tallied) {
	t := tally{diff: map[countKey]int64{}, shapes: map[shapeKey]int64{}, tags: map[tagKey]int64{}, refs: map[refKey]int64{}}
	for batch := range entities {
		if k.stopped.Load() {
			continue
		}
		for i := range batch {
			t.add(&batch[i])
		}
	}
	if k.stopped.Load() {
		out <- nil
		return
	}
	out <- t.sorted()
}

// written tells count that the apply has written its last entity. The apply calls it before
// building the indexes it deferred, so that the counting ends and is sorted meanwhile.
func (k *countKeeping) written() {
	if k.entities == nil {
		return
	}
	if len(k.batch) > 0 {
		k.entities <- k.batch
	}
	close(k.entities)
	k.entities, k.batch = nil, nil
}

// stop ends count, if it runs, without its result: an apply that fails calls it.
func (k *countKeeping) stop() {
	if k.entities != nil {
		k.stopped.Store(true)
		k.written()
	}
}

// add counts an entity row written (by = 1) or deleted (by = -1), once count gets to it.
func (k *countKeeping) add(r *entityRow, by int64) {
	if !k.own {
		return
	}
	k.batch = append(k.batch, countedEntity{r.Kind, r.Namespace, r.SpecType, r.Lifecycle, r.OwnerRef, r.SystemRef, r.Tags, r.SearchText, by})
	if len(k.batch) == countBatch {
		k.entities <- k.batch
		k.batch = make([]countedEntity, 0, countBatch)
	}
}

// add counts an entity as the triggers would: each of its fields' values once, each tag once
// however often it is listed, empty values never; its shape once, and once with each tag
// (entity_shapes of migration 00028); with each tag, its owner, its system and each tag, under
// its kind (entity_tag_values of migration 00032); with its type and lifecycle, its owner and
// system, under its kind (entity_shape_ref_values of 00033); by the words of its search text
// (entity_prefixes of 00036). The rows of every kind that 00032's and 00033's tables keep too
// are summed when sorted (everyKind), and 00034's rollups from 00033's rows (rollupsOf).
func (t *tally) add(e *countedEntity) {
	by := e.by
	for _, f := range [...]struct{ field, value string }{{"kind", e.kind}, {"type", e.specType}, {"lifecycle", e.lifecycle},
		{"owner", e.owner}, {"namespace", e.namespace}, {"system", e.system}} {
		if f.value != "" {
			t.diff[countKey{f.field, e.kind, f.value}] += by
		}
	}
	shape := shapeKey{e.kind, e.namespace, e.specType, e.lifecycle, ""}
	t.shapes[shape] += by
	kind := t.names.number(e.kind)
	var owner, system uint32
	if e.owner != "" {
		owner = t.names.number(e.owner)
	}
	if e.system != "" {
		system = t.names.number(e.system)
	}
	if e.owner != "" || e.system != "" {
		ref := refKey{specType: t.names.number(e.specType), lifecycle: t.names.number(e.lifecycle), kind: kind}
		if e.owner != "" {
			ref.field, ref.value = tagOwner, owner
			t.refs[ref] += by
		}
		if e.system != "" {
			ref.field, ref.value = tagSystem, system
			t.refs[ref] += by
		}
	}
	var scratch [16]string // most entities list fewer tags: no allocation for them
	tags := scratch[:0]
	for tag := range strings.SplitSeq(e.tags, " ") {
		if tag != "" && !slices.Contains(tags, tag) {
			tags = append(tags, tag)
		}
	}
	var numbered [16]uint32
	nums := numbered[:0]
	for _, tag := range tags {
		t.diff[countKey{"tag", e.kind, tag}] += by
		shape.tag = tag
		t.shapes[shape] += by
		nums = append(nums, t.names.number(tag))
	}
	for _, tag := range nums {
		if e.owner != "" {
			t.tags[tagKey{tag, kind, owner, tagOwner}] += by
		}
		if e.system != "" {
			t.tags[tagKey{tag, kind, system, tagSystem}] += by
		}
		for _, other := range nums {
			t.tags[tagKey{tag, kind, other, tagTag}] += by
		}
	}
	t.words.add(e.kind, e.text, by)
}

// sorted returns the tally's non-zero differences in each table's key order, with the rows of
// every kind summed (everyKind). It empties the tally.
func (t *tally) sorted() *tallied {
	out := &tallied{prefixes: t.words.prefixCounts()}
	t.words = wordCounter{}
	out.counts = nonZero(t.diff, nil)
	slices.SortFunc(out.counts, func(a, b counted[countKey]) int {
		return cmp.Or(strings.Compare(a.key.field, b.key.field), strings.Compare(a.key.kind, b.key.kind), strings.Compare(a.key.value, b.key.value))
	})
	out.shapes = nonZero(t.shapes, nil)
	slices.SortFunc(out.shapes, func(a, b counted[shapeKey]) int {
		return cmp.Or(strings.Compare(a.key.kind, b.key.kind), strings.Compare(a.key.namespace, b.key.namespace),
			strings.Compare(a.key.specType, b.key.specType), strings.Compare(a.key.lifecycle, b.key.lifecycle), strings.Compare(a.key.tag, b.key.tag))
	})
	all := t.names.number("")
	everyKind(t.tags, all, func(key *tagKey, kind uint32) { key.kind = kind })
	everyKind(t.refs, all, func(key *refKey, kind uint32) { key.kind = kind })
	rollups := rollupsOf(t.refs)
	// Numbered by rank and sorted by number: sorted by the names themselves, the 2.9 million
	// tag counts of a million entities took seconds.
	var rank []uint32
	rank, out.names = t.names.ranks()
	out.tags = nonZero(t.tags, func(key *tagKey) { key.tag, key.kind, key.value = rank[key.tag], rank[key.kind], rank[key.value] })
	slices.SortFunc(out.tags, func(a, b counted[tagKey]) int {
		return cmp.Or(cmp.Compare(a.key.tag, b.key.tag), cmp.Compare(a.key.field, b.key.field), cmp.Compare(a.key.kind, b.key.kind), cmp.Compare(a.key.value, b.key.value))
	})
	out.refs = nonZero(t.refs, func(key *refKey) {
		key.specType, key.lifecycle, key.kind, key.value = rank[key.specType], rank[key.lifecycle], rank[key.kind], rank[key.value]
	})
	slices.SortFunc(out.refs, func(a, b counted[refKey]) int {
		return cmp.Or(cmp.Compare(a.key.field, b.key.field), cmp.Compare(a.key.specType, b.key.specType), cmp.Compare(a.key.lifecycle, b.key.lifecycle),
			cmp.Compare(a.key.kind, b.key.kind), cmp.Compare(a.key.value, b.key.value))
	})
	out.rollups = nonZero(rollups, func(key *rollupKey) {
		key.axisValue, key.kind, key.value = rank[key.axisValue], rank[key.kind], rank[key.value]
	})
	slices.SortFunc(out.rollups, func(a, b counted[rollupKey]) int {
		return cmp.Or(cmp.Compare(a.key.field, b.key.field), cmp.Compare(a.key.axis, b.key.axis), cmp.Compare(a.key.axisValue, b.key.axisValue),
			cmp.Compare(a.key.kind, b.key.kind), cmp.Compare(a.key.value, b.key.value))
	})
	*t = tally{}
	return out
}

// rollupsOf sums the counts of entity_shape_refs (kind and every kind) over every lifecycle of
// each type and over every type of each lifecycle: entity_shape_ref_rollups' rows (migration
// 00034's entity_shape_ref_rollup_values lists each entity's). Summed once from the refs, a
// million entities' 1.1 million, rather than as each entity is counted.
func rollupsOf(refs map[refKey]int64) map[rollupKey]int64 {
	out := make(map[rollupKey]int64, len(refs))
	for key, n := range refs {
		out[rollupKey{key.specType, key.kind, key.value, key.field, rollupType}] += n
		out[rollupKey{key.lifecycle, key.kind, key.value, key.field, rollupLifecycle}] += n
	}
	return out
}

// nonZero lists the non-zero counts, their keys changed by renumber when it is given.
func nonZero[K comparable](counts map[K]int64, renumber func(*K)) []counted[K] {
	out := make([]counted[K], 0, len(counts))
	for key, n := range counts {
		if n != 0 {
			if renumber != nil {
				renumber(&key)
			}
			out = append(out, counted[K]{key, n})
		}
	}
	return out
}

// add counts an entity of kind, written (by = 1) or deleted (-1), by the words of its search text.
func (w *wordCounter) add(kindName, text string, by int64) {
	kind := slices.Index(w.kinds, kindName)
	if kind < 0 {
		kind = len(w.kinds)
		w.kinds, w.words = append(w.kinds, kindName), append(w.words, map[string]int{})
	}
	words := w.words[kind]
	sortedWords(text, func(word string, shared int) {
		w.key = append(append(w.key[:0], word...), byte(shared>>8), byte(shared))
		if i, ok := words[string(w.key)]; ok { // looked up without a copy of the key
			w.counts[i] += by
			return
		}
		words[string(w.key)] = len(w.counts) // kept as a copy: not the text it came from
		w.counts = append(w.counts, by)
	})
}

// prefixCounts returns the differences the entities counted make to entity_prefix_counts, but
// none, in key order (prefix, then kind).
func (w *wordCounter) prefixCounts() []prefixCount {
	var out []prefixCount
	for kind, words := range w.words {
		counts := make(map[string]int64, len(words))
		for key, i := range words {
			if by := w.counts[i]; by != 0 {
				n := len(key) - 2
				prefixesAfter(key[:n], int(key[n])<<8|int(key[n+1]), func(p string) { counts[p] += by })
			}
		}
		for p, n := range counts {
			if n != 0 {
				out = append(out, prefixCount{p, w.kinds[kind], n})
			}
		}
	}
	slices.SortFunc(out, func(a, b prefixCount) int {
		if c := strings.Compare(a.prefix, b.prefix); c != 0 {
			return c
		}
		return strings.Compare(a.kind, b.kind)
	})
	return out
}

// countedPrefixRunes bounds the prefixes entity_prefix_counts counts, in characters (migration
// 00025): a search word longer than that is counted on the entities.
const countedPrefixRunes = 32

// countedDigits is the longest search of digits alone (0-9) whose matches are counted from its
// row of entity_prefix_counts; a longer one is counted on its matches, which the row of its
// first countedDigits digits bounds (fewMatches). The table keeps no longer prefix of digits
// alone (migration 00036; releases since 00035 read none): they were nearly all of its rows (a
// serial in a name, a ticket, a port: 1,269,646 of the 1,287,100 rows at a million entities of
// the benchmark catalog), counted, sorted and copied by every first import.
const countedDigits = 3

// countedPrefix returns the longest prefix of a search word whose row of entity_prefix_counts is
// read: its first countedPrefixRunes characters, and of digits alone countedDigits; whole says
// whether that is the word itself, whose matches the row then counts.
func countedPrefix(word string) (prefix string, whole bool) {
	prefix, whole = word, true
	if r := []rune(word); len(r) > countedPrefixRunes {
		prefix, whole = string(r[:countedPrefixRunes]), false
	}
	if len(prefix) > countedDigits && digitsOnly(prefix) {
		prefix, whole = prefix[:countedDigits], false
	}
	return prefix, whole
}

// digitsOnly says whether w is made of the digits 0-9 alone ('^[0-9]+$').
func digitsOnly(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}

// indexedWordBytes is the length from which PostgreSQL leaves a word out of a tsvector.
const indexedWordBytes = 2047

// sortedWords calls add with each distinct word of a search text (space-separated) in sorted
// order, but those the tsvector leaves out, and how many of its first bytes the word before it
// has too; a word of digits alone is cut to countedDigits, the prefixes of it that are counted.
// In sorted order the words sharing a prefix are neighbours, so the prefixes of a word that an
// earlier word has too are those it shares with the word before it: an entity is counted under
// each prefix of its words once, as migration 00036's entity_prefixes lists them, by taking each
// word's prefixes longer than what it shares (prefixesAfter).
func sortedWords(text string, add func(word string, shared int)) {
	if text == "" {
		return
	}
	var scratch [32]string // most entities have fewer words: no allocation for them
	words := scratch[:0]
	for w := range strings.FieldsSeq(text) {
		if len(w) >= indexedWordBytes {
			continue
		}
		if len(w) > countedDigits && digitsOnly(w) {
			w = w[:countedDigits]
		}
		words = append(words, w)
	}
	slices.Sort(words)
	prev := ""
	for _, w := range words {
		shared := 0
		for shared < len(w) && shared < len(prev) && w[shared] == prev[shared] {
			shared++
		}
		prev = w
		if shared < len(w) { // not a repeated word
			add(w, shared)
		}
	}
}

// prefixesAfter calls add with each prefix of w, up to countedPrefixRunes characters, longer
// than its first shared bytes, but those of more than countedDigits digits alone.
func prefixesAfter(w string, shared int, add func(string)) {
	n, digits := 0, true
	for i, r := range w {
		if n++; n > countedPrefixRunes {
			return
		}
		digits = digits && r >= '0' && r <= '9'
		if end := i + utf8.RuneLen(r); end > shared && (!digits || n <= countedDigits) {
			add(w[:end])
		}
	}
}

// finish adds the apply's differences to the kept counts, after its last write of entities and
// before its commit; then the trigger counts again for whatever the transaction still writes.
func (k *countKeeping) finish(ctx context.Context) error {
	if !k.own {
		return nil
	}
	k.written()
	t := <-k.counted
	if err := k.addCounts(ctx, t.counts); err != nil {
		return err
	}
	if err := k.addShapeCounts(ctx, t.shapes); err != nil {
		return err
	}
	if err := k.addTagCounts(ctx, t.tags, t.names); err != nil {
		return err
	}
	if err := k.addShapeRefs(ctx, t.refs, t.names); err != nil {
		return err
	}
	if err := k.addRollups(ctx, t.rollups, t.names); err != nil {
		return err
	}
	if err := k.addPrefixCounts(ctx, t.prefixes); err != nil {
		return err
	}
	k.own = false
	if err := k.s.st.DB(ctx).Exec("SELECT set_config(?, '', true), set_config(?, '', true), set_config(?, '', true), set_config(?, '', true), set_config(?, '', true), set_config(?, '', true)",
		entityCountsSetting, prefixCountsSetting, shapeCountsSetting, tagCountsSetting, shapeRefsSetting, rollupsSetting).Error; err != nil {
		return store.Translate(err, "entity counts")
	}
	return nil
}

// isEmpty says whether table has no rows: an apply's counts are copied into an empty one (a
// first import) rather than added to it. Applies take turns (lockApplies), so the table stays
// empty until this one's copy.
func (k *countKeeping) isEmpty(ctx context.Context, table string) (bool, error) {
	var empty bool
	err := k.s.st.DB(ctx).Raw("SELECT NOT EXISTS (SELECT 1 FROM " + table + ")").Scan(&empty).Error
	return empty, store.Translate(err, table)
}

// addRows adds n of the apply's differences to table, in the order given (key order), row
// giving row i's columns: text, but the last, the count (bigint). Into an empty table (a first
// import) they are copied; otherwise upsert (the table's add...SQL, which takes one array per
// column) adds them countsChunk at a time.
func (k *countKeeping) addRows(ctx context.Context, table string, columns []string, upsert string, n int, row func(i int, args []any) []any) error {
	if n == 0 {
		return nil
	}
	empty, err := k.isEmpty(ctx, table)
	if err != nil {
		return err
	}
	if empty {
		return k.s.st.CopyRows(ctx, table, columns, n, row)
	}
	var args []any
	for start := 0; start < n; start += countsChunk {
		size := min(countsChunk, n-start)
		texts, by := make([][]string, len(columns)-1), make([]int64, size)
		for c := range texts {
			texts[c] = make([]string, size)
		}
		for i := range size {
			args = row(start+i, args[:0])
			for c := range texts {
				texts[c][i] = args[c].(string)
			}
			by[i] = args[len(texts)].(int64)
		}
		params := make([]any, 0, len(columns))
		for _, t := range texts {
			params = append(params, t)
		}
		if err := k.s.st.DB(ctx).Exec(upsert, append(params, by)...).Error; err != nil {
			return store.Translate(err, table)
		}
	}
	return nil
}

// addCounts adds the apply's differences to entity_counts, in key order. Into an empty table
// (a first import) they are copied, as the prefix counts are: 141,307 rows of a million
// entities, 1.7 s of upserts.
func (k *countKeeping) addCounts(ctx context.Context, counts []counted[countKey]) error {
	return k.addRows(ctx, "entity_counts", []string{"field", "kind", "value", "entities"}, addCountsSQL, len(counts), func(i int, args []any) []any {
		c := counts[i]
		return append(args, c.key.field, c.key.kind, c.key.value, c.n)
	})
}

// addShapeCounts adds the apply's differences to entity_shape_counts, in key order: a catalog has
// few shapes (1,425 rows at a million entities), so one statement in practice.
func (k *countKeeping) addShapeCounts(ctx context.Context, shapes []counted[shapeKey]) error {
	for part := range slices.Chunk(shapes, countsChunk) {
		kinds, namespaces, types, lifecycles, tags, by := make([]string, len(part)), make([]string, len(part)),
			make([]string, len(part)), make([]string, len(part)), make([]string, len(part)), make([]int64, len(part))
		for i, c := range part {
			kinds[i], namespaces[i], types[i], lifecycles[i], tags[i], by[i] = c.key.kind, c.key.namespace, c.key.specType, c.key.lifecycle, c.key.tag, c.n
		}
		if err := k.s.st.DB(ctx).Exec(addShapeCountsSQL, kinds, namespaces, types, lifecycles, tags, by).Error; err != nil {
			return store.Translate(err, "entity shape counts")
		}
	}
	return nil
}

// addShapeCountsSQL adds differences to entity_shape_counts, in the order given (key order).
const addShapeCountsSQL = `INSERT INTO entity_shape_counts AS c (kind, namespace, spec_type, lifecycle, tag, entities)
SELECT d.kind, d.namespace, d.spec_type, d.lifecycle, d.tag, d.entities
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) WITH ORDINALITY AS d(kind, namespace, spec_type, lifecycle, tag, entities, i) ORDER BY d.i
ON CONFLICT (kind, namespace, spec_type, lifecycle, tag) DO UPDATE SET entities = c.entities + excluded.entities`

// everyKind adds to counts, kept by kind, their sums over kinds: the rows of every kind (the kind
// numbered all), which add counts no entity under. Summed here, from 1.5 million counts at a
// million entities, rather than as each entity is counted: twice as many increments of a map
// too large for the processor's caches.
func everyKind[K comparable](counts map[K]int64, all uint32, setKind func(*K, uint32)) {
	sums := make(map[K]int64, len(counts))
	for key, n := range counts {
		setKind(&key, all)
		sums[key] += n
	}
	for key, n := range sums {
		counts[key] += n
	}
}

// addTagCounts adds the apply's differences to entity_tag_counts, in key order (tag, field, kind,
// value), their names numbered by rank (names). Into an empty table (a first import) they are
// copied, as the prefix counts are: a million entities' 2.9 million rows. Neither this table nor
// entity_shape_refs has an index besides its key, which the rows are written in the order of:
// an index of each in count order, which read a field's first values without sorting a tag's
// (2.4 rather than 10 ms for `java`'s systems at a million), took 13 s of a million-entity
// import to build.
func (k *countKeeping) addTagCounts(ctx context.Context, counts []counted[tagKey], names []string) error {
	return k.addRows(ctx, "entity_tag_counts", []string{"tag", "field", "kind", "value", "entities"}, addTagCountsSQL, len(counts), func(i int, args []any) []any {
		c := counts[i]
		return append(args, names[c.key.tag], tagFields[c.key.field], names[c.key.kind], names[c.key.value], c.n)
	})
}

// addTagCountsSQL adds differences to entity_tag_counts, in the order given (key order).
const addTagCountsSQL = `INSERT INTO entity_tag_counts AS c (tag, field, kind, value, entities)
SELECT d.tag, d.field, d.kind, d.value, d.entities
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) WITH ORDINALITY AS d(tag, field, kind, value, entities, i) ORDER BY d.i
ON CONFLICT (tag, field, kind, value) DO UPDATE SET entities = c.entities + excluded.entities`

// addShapeRefs adds the apply's differences to entity_shape_refs, in key order (field, type,
// lifecycle, kind, value), their names numbered by rank (names). Into an empty table (a first
// import) they are copied.
func (k *countKeeping) addShapeRefs(ctx context.Context, counts []counted[refKey], names []string) error {
	return k.addRows(ctx, "entity_shape_refs", []string{"field", "spec_type", "lifecycle", "kind", "value", "entities"}, addShapeRefsSQL, len(counts), func(i int, args []any) []any {
		c := counts[i]
		return append(args, tagFields[c.key.field], names[c.key.specType], names[c.key.lifecycle], names[c.key.kind], names[c.key.value], c.n)
	})
}

// addShapeRefsSQL adds differences to entity_shape_refs, in the order given (key order).
const addShapeRefsSQL = `INSERT INTO entity_shape_refs AS c (field, spec_type, lifecycle, kind, value, entities)
SELECT d.field, d.spec_type, d.lifecycle, d.kind, d.value, d.entities
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) WITH ORDINALITY AS d(field, spec_type, lifecycle, kind, value, entities, i) ORDER BY d.i
ON CONFLICT (field, spec_type, lifecycle, kind, value) DO UPDATE SET entities = c.entities + excluded.entities`

// addRollups adds the apply's differences to entity_shape_ref_rollups, in key order (field, axis,
// axis value, kind, value), their names numbered by rank (names). Into an empty table (a first
// import) they are copied.
func (k *countKeeping) addRollups(ctx context.Context, counts []counted[rollupKey], names []string) error {
	return k.addRows(ctx, "entity_shape_ref_rollups", []string{"field", "axis", "axis_value", "kind", "value", "entities"}, addRollupsSQL, len(counts), func(i int, args []any) []any {
		c := counts[i]
		return append(args, tagFields[c.key.field], rollupAxes[c.key.axis], names[c.key.axisValue], names[c.key.kind], names[c.key.value], c.n)
	})
}

// addRollupsSQL adds differences to entity_shape_ref_rollups, in the order given (key order).
const addRollupsSQL = `INSERT INTO entity_shape_ref_rollups AS c (field, axis, axis_value, kind, value, entities)
SELECT d.field, d.axis, d.axis_value, d.kind, d.value, d.entities
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) WITH ORDINALITY AS d(field, axis, axis_value, kind, value, entities, i) ORDER BY d.i
ON CONFLICT (field, axis, axis_value, kind, value) DO UPDATE SET entities = c.entities + excluded.entities`

// addPrefixCounts adds the apply's differences to entity_prefix_counts, in key order. Into an
// empty table (a first import) they are copied instead: nothing is there to add to, and the
// upserts of a million entities' 1.29 million prefixes (before 00036: 17,454 now) took about
// 4 s of the import's transaction after its index builds, the copy about 1 s.
func (k *countKeeping) addPrefixCounts(ctx context.Context, counts []prefixCount) error {
	return k.addRows(ctx, "entity_prefix_counts", []string{"prefix", "kind", "entities"}, addPrefixCountsSQL, len(counts), func(i int, args []any) []any {
		return append(args, counts[i].prefix, counts[i].kind, counts[i].entities)
	})
}

// addPrefixCountsSQL adds differences to entity_prefix_counts, in the order given (key order).
const addPrefixCountsSQL = `INSERT INTO entity_prefix_counts AS c (prefix, kind, entities)
SELECT d.prefix, d.kind, d.entities
FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS d(prefix, kind, entities, i) ORDER BY d.i
ON CONFLICT (prefix, kind) DO UPDATE SET entities = c.entities + excluded.entities`

// addCountsSQL adds differences to the kept counts, in the order given (key order).
const addCountsSQL = `INSERT INTO entity_counts AS c (field, kind, value, entities)
SELECT d.field, d.kind, d.value, d.entities
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS d(field, kind, value, entities, i) ORDER BY d.i
ON CONFLICT (field, kind, value) DO UPDATE SET entities = c.entities + excluded.entities`

// countsChunk bounds the count rows one statement adds (a million-entity import: 141,307 rows,
// three statements): the arrays are held in memory whole on both sides.
const countsChunk = 50_000
