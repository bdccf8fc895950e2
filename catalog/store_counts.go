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

// tagNames numbers the strings of tagKeys and refKeys.
type tagNames struct {
	numbers map[string]uint32
	names   []string
}

// ranks are the places of the names numbered, in bytewise order, by number.
func (n *tagNames) ranks() []uint32 {
	byName := make([]uint32, len(n.names))
	for i := range byName {
		byName[i] = uint32(i)
	}
	slices.SortFunc(byName, func(a, b uint32) int { return strings.Compare(n.names[a], n.names[b]) })
	rank := make([]uint32, len(n.names))
	for r, i := range byName {
		rank[i] = uint32(r)
	}
	return rank
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
// SQLite). Used by apply, inside its transaction.
type countKeeping struct {
	s *Service
	// own is set once the trigger stands aside: the apply counts its writes from then on.
	own    bool
	diff   map[countKey]int64
	shapes map[shapeKey]int64
	tags   map[tagKey]int64
	refs   map[refKey]int64
	names  tagNames
	// texts takes the kinds and search texts of the entities written and deleted, a batch at
	// a time, to the goroutine that counts their words (countWords); prefixes brings back the
	// differences to the prefix counts. Counted apart, the words of a first import are counted
	// while the database builds its indexes, the one stretch of the import where Portside waits.
	texts    chan []wordedText
	batch    []wordedText
	prefixes chan []prefixCount
	stopped  atomic.Bool
}

// wordedText is an entity's search text written (by = 1) or deleted (-1), for countWords.
type wordedText struct {
	kind, text string
	by         int64
}

// textBatch is how many search texts go to countWords at a time; textBatches how many batches
// it may be behind before the apply waits for it (4 million texts: a first import of a million
// is never held up, and its texts are what the counting holds).
const (
	textBatch   = 1024
	textBatches = 4096
)

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
// the trigger stand aside for the rest of the transaction.
func (k *countKeeping) begin(ctx context.Context) error {
	if k.own || k.s.st.Dialect() != store.Postgres {
		return nil
	}
	if err := k.s.st.DB(ctx).Exec("SELECT set_config(?, 'recount', true), set_config(?, 'counted', true), set_config(?, 'counted', true), set_config(?, 'counted', true), set_config(?, 'counted', true)",
		entityCountsSetting, prefixCountsSetting, shapeCountsSetting, tagCountsSetting, shapeRefsSetting).Error; err != nil {
		return store.Translate(err, "entity counts")
	}
	k.own, k.diff, k.shapes, k.tags, k.refs = true, map[countKey]int64{}, map[shapeKey]int64{}, map[tagKey]int64{}, map[refKey]int64{}
	k.texts, k.prefixes = make(chan []wordedText, textBatches), make(chan []prefixCount, 1)
	go k.countWords(k.texts, k.prefixes)
	return nil
}

// countWords counts the words of the search texts it is given until texts is closed, then
// sends the differences they make to the prefix counts; nothing once stop was called.
func (k *countKeeping) countWords(texts <-chan []wordedText, prefixes chan<- []prefixCount) {
	var w wordCounter
	for batch := range texts {
		if k.stopped.Load() {
			continue
		}
		for _, t := range batch {
			w.add(t.kind, t.text, t.by)
		}
	}
	if k.stopped.Load() {
		prefixes <- nil
		return
	}
	prefixes <- w.prefixCounts()
}

// wordsWritten tells countWords that the apply has written its last entity. The apply calls it
// before building the indexes it deferred, so that the words are counted meanwhile.
func (k *countKeeping) wordsWritten() {
	if k.texts == nil {
		return
	}
	if len(k.batch) > 0 {
		k.texts <- k.batch
	}
	close(k.texts)
	k.texts, k.batch = nil, nil
}

// stop ends countWords, if it runs, without its result: an apply that fails calls it.
func (k *countKeeping) stop() {
	if k.texts != nil {
		k.stopped.Store(true)
		k.wordsWritten()
	}
}

// add counts an entity row written (by = 1) or deleted (by = -1) as the triggers would: each of
// its fields' values once, each tag once however often it is listed, empty values never; its
// shape once, and once with each tag (entity_shapes of migration 00028); with each tag, its
// owner, its system and each tag, under its kind (entity_tag_values of migration 00032); with its
// type and lifecycle, its owner and system, under its kind (entity_shape_ref_values of 00033).
// The rows of every kind those two tables keep too are summed when they are written (everyKind).
func (k *countKeeping) add(r *entityRow, by int64) {
	if !k.own {
		return
	}
	for _, f := range [...]struct{ field, value string }{{"kind", r.Kind}, {"type", r.SpecType}, {"lifecycle", r.Lifecycle},
		{"owner", r.OwnerRef}, {"namespace", r.Namespace}, {"system", r.SystemRef}} {
		if f.value != "" {
			k.diff[countKey{f.field, r.Kind, f.value}] += by
		}
	}
	shape := shapeKey{r.Kind, r.Namespace, r.SpecType, r.Lifecycle, ""}
	k.shapes[shape] += by
	if r.OwnerRef != "" || r.SystemRef != "" {
		// Under its kind only: the rows of every kind are summed from these when they are
		// written (everyKind), not counted entity by entity.
		ref := refKey{specType: k.names.number(r.SpecType), lifecycle: k.names.number(r.Lifecycle), kind: k.names.number(r.Kind)}
		if r.OwnerRef != "" {
			ref.field, ref.value = tagOwner, k.names.number(r.OwnerRef)
			k.refs[ref] += by
		}
		if r.SystemRef != "" {
			ref.field, ref.value = tagSystem, k.names.number(r.SystemRef)
			k.refs[ref] += by
		}
	}
	var scratch [16]string // most entities list fewer tags: no allocation for them
	tags := scratch[:0]
	for t := range strings.SplitSeq(r.Tags, " ") {
		if t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	for _, t := range tags {
		k.diff[countKey{"tag", r.Kind, t}] += by
		shape.tag = t
		k.shapes[shape] += by
	}
	if len(tags) > 0 {
		var numbered [16]uint32
		nums := numbered[:0]
		for _, t := range tags {
			nums = append(nums, k.names.number(t))
		}
		kind := k.names.number(r.Kind) // its kind only, as the shape refs
		var owner, system uint32
		if r.OwnerRef != "" {
			owner = k.names.number(r.OwnerRef)
		}
		if r.SystemRef != "" {
			system = k.names.number(r.SystemRef)
		}
		for _, tag := range nums {
			if r.OwnerRef != "" {
				k.tags[tagKey{tag, kind, owner, tagOwner}] += by
			}
			if r.SystemRef != "" {
				k.tags[tagKey{tag, kind, system, tagSystem}] += by
			}
			for _, other := range nums {
				k.tags[tagKey{tag, kind, other, tagTag}] += by
			}
		}
	}
	if r.SearchText != "" {
		if k.batch = append(k.batch, wordedText{r.Kind, r.SearchText, by}); len(k.batch) == textBatch {
			k.texts <- k.batch
			k.batch = make([]wordedText, 0, textBatch)
		}
	}
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

// indexedWordBytes is the length from which PostgreSQL leaves a word out of a tsvector.
const indexedWordBytes = 2047

// sortedWords calls add with each distinct word of a search text (space-separated) in sorted
// order, but those the tsvector leaves out, and how many of its first bytes the word before it
// has too. In sorted order the words sharing a prefix are neighbours, so the prefixes of a word
// that an earlier word has too are those it shares with the word before it: an entity is
// counted under each prefix of its words once, as migration 00025's entity_prefixes lists them,
// by taking each word's prefixes longer than what it shares (prefixesAfter).
func sortedWords(text string, add func(word string, shared int)) {
	if text == "" {
		return
	}
	var scratch [32]string // most entities have fewer words: no allocation for them
	words := scratch[:0]
	for w := range strings.FieldsSeq(text) {
		words = append(words, w)
	}
	slices.Sort(words)
	prev := ""
	for _, w := range words {
		if len(w) >= indexedWordBytes {
			continue
		}
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
// than its first shared bytes.
func prefixesAfter(w string, shared int, add func(string)) {
	n := 0
	for i, r := range w {
		if n++; n > countedPrefixRunes {
			return
		}
		if end := i + utf8.RuneLen(r); end > shared {
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
	keys := make([]countKey, 0, len(k.diff))
	for key, n := range k.diff {
		if n != 0 {
			keys = append(keys, key)
		}
	}
	slices.SortFunc(keys, func(a, b countKey) int {
		return cmp.Or(strings.Compare(a.field, b.field), strings.Compare(a.kind, b.kind), strings.Compare(a.value, b.value))
	})
	db := k.s.st.DB(ctx)
	// Into an empty table (a first import) the counts are copied, as the prefix counts are
	// (addPrefixCounts): 141,307 rows of a million entities, 1.7 s of upserts.
	var empty bool
	if len(keys) > 0 {
		if err := db.Raw("SELECT NOT EXISTS (SELECT 1 FROM entity_counts)").Scan(&empty).Error; err != nil {
			return store.Translate(err, "entity counts")
		}
	}
	if empty {
		err := k.s.st.CopyRows(ctx, "entity_counts", []string{"field", "kind", "value", "entities"}, len(keys), func(i int, args []any) []any {
			return append(args, keys[i].field, keys[i].kind, keys[i].value, k.diff[keys[i]])
		})
		if err != nil {
			return err
		}
		keys = nil
	}
	for part := range slices.Chunk(keys, countsChunk) {
		fields, kinds, values, by := make([]string, len(part)), make([]string, len(part)), make([]string, len(part)), make([]int64, len(part))
		for i, key := range part {
			fields[i], kinds[i], values[i], by[i] = key.field, key.kind, key.value, k.diff[key]
		}
		if err := db.Exec(addCountsSQL, fields, kinds, values, by).Error; err != nil {
			return store.Translate(err, "entity counts")
		}
	}
	if err := k.addShapeCounts(ctx); err != nil {
		return err
	}
	if err := k.addTagCounts(ctx); err != nil {
		return err
	}
	if err := k.addShapeRefs(ctx); err != nil {
		return err
	}
	k.wordsWritten()
	if err := k.addPrefixCounts(ctx, <-k.prefixes); err != nil {
		return err
	}
	k.own, k.diff, k.shapes, k.tags, k.refs, k.names = false, nil, nil, nil, nil, tagNames{}
	if err := db.Exec("SELECT set_config(?, '', true), set_config(?, '', true), set_config(?, '', true), set_config(?, '', true), set_config(?, '', true)",
		entityCountsSetting, prefixCountsSetting, shapeCountsSetting, tagCountsSetting, shapeRefsSetting).Error; err != nil {
		return store.Translate(err, "entity counts")
	}
	return nil
}

// addShapeCounts adds the apply's differences to entity_shape_counts, in key order: a catalog has
// few shapes (1,425 rows at a million entities), so one statement in practice.
func (k *countKeeping) addShapeCounts(ctx context.Context) error {
	keys := make([]shapeKey, 0, len(k.shapes))
	for key, n := range k.shapes {
		if n != 0 {
			keys = append(keys, key)
		}
	}
	slices.SortFunc(keys, func(a, b shapeKey) int {
		return cmp.Or(strings.Compare(a.kind, b.kind), strings.Compare(a.namespace, b.namespace),
			strings.Compare(a.specType, b.specType), strings.Compare(a.lifecycle, b.lifecycle), strings.Compare(a.tag, b.tag))
	})
	for part := range slices.Chunk(keys, countsChunk) {
		kinds, namespaces, types, lifecycles, tags, by := make([]string, len(part)), make([]string, len(part)),
			make([]string, len(part)), make([]string, len(part)), make([]string, len(part)), make([]int64, len(part))
		for i, key := range part {
			kinds[i], namespaces[i], types[i], lifecycles[i], tags[i], by[i] = key.kind, key.namespace, key.specType, key.lifecycle, key.tag, k.shapes[key]
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
// million entities, rather than as each entity is counted, twice as many increments of a map
// too large for the processor's caches, on the path of the import's writes.
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
// value, the strings compared as bytes). Into an empty table (a first import) they are copied,
// as the prefix counts are: a million entities' 2.9 million rows. Neither this table nor
// entity_shape_refs has an index besides its key, which the rows are written in the order of:
// an index of each in count order, which read a field's first values without sorting a tag's
// (2.4 rather than 10 ms for `java`'s systems at a million), took 13 s of a million-entity
// import to build.
func (k *countKeeping) addTagCounts(ctx context.Context) error {
	everyKind(k.tags, k.names.number(""), func(key *tagKey, kind uint32) { key.kind = kind })
	keys := make([]tagKey, 0, len(k.tags))
	for key, n := range k.tags {
		if n != 0 {
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	// Sorted by the names' ranks, numbers compared: by the names themselves, 2.9 million keys
	// took seconds of the import's transaction.
	names, rank := k.names.names, k.names.ranks()
	slices.SortFunc(keys, func(a, b tagKey) int {
		return cmp.Or(cmp.Compare(rank[a.tag], rank[b.tag]), cmp.Compare(a.field, b.field),
			cmp.Compare(rank[a.kind], rank[b.kind]), cmp.Compare(rank[a.value], rank[b.value]))
	})
	db := k.s.st.DB(ctx)
	var empty bool
	if err := db.Raw("SELECT NOT EXISTS (SELECT 1 FROM entity_tag_counts)").Scan(&empty).Error; err != nil {
		return store.Translate(err, "entity tag counts")
	}
	if empty {
		return k.s.st.CopyRows(ctx, "entity_tag_counts", []string{"tag", "field", "kind", "value", "entities"}, len(keys), func(i int, args []any) []any {
			key := keys[i]
			return append(args, names[key.tag], tagFields[key.field], names[key.kind], names[key.value], k.tags[key])
		})
	}
	for part := range slices.Chunk(keys, countsChunk) {
		tags, fields, kinds, values, by := make([]string, len(part)), make([]string, len(part)),
			make([]string, len(part)), make([]string, len(part)), make([]int64, len(part))
		for i, key := range part {
			tags[i], fields[i], kinds[i], values[i], by[i] = names[key.tag], tagFields[key.field], names[key.kind], names[key.value], k.tags[key]
		}
		if err := db.Exec(addTagCountsSQL, tags, fields, kinds, values, by).Error; err != nil {
			return store.Translate(err, "entity tag counts")
		}
	}
	return nil
}

// addTagCountsSQL adds differences to entity_tag_counts, in the order given (key order).
const addTagCountsSQL = `INSERT INTO entity_tag_counts AS c (tag, field, kind, value, entities)
SELECT d.tag, d.field, d.kind, d.value, d.entities
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) WITH ORDINALITY AS d(tag, field, kind, value, entities, i) ORDER BY d.i
ON CONFLICT (tag, field, kind, value) DO UPDATE SET entities = c.entities + excluded.entities`

// addShapeRefs adds the apply's differences to entity_shape_refs, in key order (field, type,
// lifecycle, kind, value, the strings compared as bytes). Into an empty table (a first import)
// they are copied.
func (k *countKeeping) addShapeRefs(ctx context.Context) error {
	everyKind(k.refs, k.names.number(""), func(key *refKey, kind uint32) { key.kind = kind })
	keys := make([]refKey, 0, len(k.refs))
	for key, n := range k.refs {
		if n != 0 {
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	names, rank := k.names.names, k.names.ranks()
	slices.SortFunc(keys, func(a, b refKey) int {
		return cmp.Or(cmp.Compare(a.field, b.field), cmp.Compare(rank[a.specType], rank[b.specType]), cmp.Compare(rank[a.lifecycle], rank[b.lifecycle]),
			cmp.Compare(rank[a.kind], rank[b.kind]), cmp.Compare(rank[a.value], rank[b.value]))
	})
	columns := []string{"field", "spec_type", "lifecycle", "kind", "value", "entities"}
	db := k.s.st.DB(ctx)
	var empty bool
	if err := db.Raw("SELECT NOT EXISTS (SELECT 1 FROM entity_shape_refs)").Scan(&empty).Error; err != nil {
		return store.Translate(err, "entity shape refs")
	}
	if empty {
		return k.s.st.CopyRows(ctx, "entity_shape_refs", columns, len(keys), func(i int, args []any) []any {
			key := keys[i]
			return append(args, tagFields[key.field], names[key.specType], names[key.lifecycle], names[key.kind], names[key.value], k.refs[key])
		})
	}
	for part := range slices.Chunk(keys, countsChunk) {
		cols := make([][]string, 5)
		for c := range cols {
			cols[c] = make([]string, len(part))
		}
		by := make([]int64, len(part))
		for i, key := range part {
			cols[0][i], cols[1][i], cols[2][i], cols[3][i], cols[4][i] = tagFields[key.field], names[key.specType], names[key.lifecycle],
				names[key.kind], names[key.value]
			by[i] = k.refs[key]
		}
		if err := db.Exec(addShapeRefsSQL, cols[0], cols[1], cols[2], cols[3], cols[4], by).Error; err != nil {
			return store.Translate(err, "entity shape refs")
		}
	}
	return nil
}

// addShapeRefsSQL adds differences to entity_shape_refs, in the order given (key order).
const addShapeRefsSQL = `INSERT INTO entity_shape_refs AS c (field, spec_type, lifecycle, kind, value, entities)
SELECT d.field, d.spec_type, d.lifecycle, d.kind, d.value, d.entities
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) WITH ORDINALITY AS d(field, spec_type, lifecycle, kind, value, entities, i) ORDER BY d.i
ON CONFLICT (field, spec_type, lifecycle, kind, value) DO UPDATE SET entities = c.entities + excluded.entities`

// addPrefixCounts adds the apply's differences to entity_prefix_counts, in key order. Into an
// empty table (a first import) they are copied instead: nothing is there to add to, and the
// upserts of a million entities' 1.29 million prefixes took about 4 s of the import's
// transaction after its index builds, the copy about 1 s. Applies take turns (lockApplies), so
// the table stays empty until this one's copy.
func (k *countKeeping) addPrefixCounts(ctx context.Context, counts []prefixCount) error {
	db := k.s.st.DB(ctx)
	if len(counts) == 0 {
		return nil
	}
	var empty bool
	if err := db.Raw("SELECT NOT EXISTS (SELECT 1 FROM entity_prefix_counts)").Scan(&empty).Error; err != nil {
		return store.Translate(err, "entity prefix counts")
	}
	if empty {
		return k.s.st.CopyRows(ctx, "entity_prefix_counts", []string{"prefix", "kind", "entities"}, len(counts), func(i int, args []any) []any {
			return append(args, counts[i].prefix, counts[i].kind, counts[i].entities)
		})
	}
	for part := range slices.Chunk(counts, countsChunk) {
		prefixes, kinds, by := make([]string, len(part)), make([]string, len(part)), make([]int64, len(part))
		for i, c := range part {
			prefixes[i], kinds[i], by[i] = c.prefix, c.kind, c.entities
		}
		if err := db.Exec(addPrefixCountsSQL, prefixes, kinds, by).Error; err != nil {
			return store.Translate(err, "entity prefix counts")
		}
	}
	return nil
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
