package backstage

import (
	"bytes"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// A fast path for reading catalog files. yaml.v3 spends most of a catalog import's parsing time
// scanning and parsing, yet catalog files are nearly always written in a small block-style subset
// of YAML. fastDocuments reads that subset straight into the *yaml.Node trees yaml.v3's Decoder
// builds, and declines anything else, anywhere in the file: the whole file is then read by
// yaml.v3 as before. It never reports an error of its own, and must never build a tree yaml.v3
// would not (fastyaml_test.go checks this against yaml.v3, differentially and by fuzzing).
//
// The subset:
//   - documents separated by lines "---" (spaces or a comment may follow), one before the first
//     document allowed; comment and blank lines anywhere; no empty documents, no "..." or
//     directives; each document is a block mapping or a block sequence;
//   - block mappings of single-line plain or quoted keys; block sequences, with compact mappings
//     ("- key: value") and sequences under a key at the key's indentation; indentation by spaces;
//   - single-line scalars: plain, single-quoted, double-quoted with yaml.v3's escapes (no escaped
//     line breaks); flow sequences on one line of such scalars, "[]" and "{}";
//   - literal block scalars ("|", "|-", "|+") without an indentation indicator.
//
// Not in it (declined): folded scalars, multi-line plain and quoted scalars, flow mappings and
// nested flow collections, anchors, aliases, tags, "?" keys, tabs (even in quoted scalars), CR
// line endings, BOMs, control characters, invalid UTF-8, and YAML's other line breaks (NEL, LS,
// PS).
//
// The nodes carry every field yaml.v3 sets but the comments (HeadComment, LineComment,
// FootComment), which nothing in this package reads.

// fastPathBytes is the largest file ParseStream reads with the fast path. Such a file is read
// whole, and its node trees (about ten times its size) built, before its first document is
// handed over; a larger file is read by yaml.v3 as it streams in, its first documents handed over
// long before its end (catalog's TestALargeFilesDocumentsAreHandedOverWhileItIsRead holds a file
// of 1.1 MB to that). Catalog files are nearly all smaller (gencatalog's shards are 200 kB).
const fastPathBytes = 256 << 10

// maxFastDepth bounds how deeply the fast path nests collections (yaml.v3 allows more; such a
// file is its to read).
const maxFastDepth = 200

// maxFastKey bounds a key's length, before its ':': yaml.v3 requires the ':' of a key written
// without '?' within 1024 characters of its start.
const maxFastKey = 1000

// fastDecline is what the fast parser panics with when the file is not in its subset.
type fastDecline struct{}

// fastDocuments returns the DocumentNodes yaml.v3's Decoder reads from src, one per Decode, or
// false when src is not in the fast path's subset.
func fastDocuments(src []byte) (docs []*yaml.Node, ok bool) {
	defer func() {
		// A decline, or a bug in the fast path: either way yaml.v3 reads the file.
		if recover() != nil {
			docs, ok = nil, false
		}
	}()
	return parseFastYAML(src)
}

// parseFastYAML is fastDocuments without its guard against its own bugs, for the tests.
func parseFastYAML(src []byte) (docs []*yaml.Node, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, declined := r.(fastDecline); !declined {
				panic(r)
			}
			docs, ok = nil, false
		}
	}()
	if !fastText(src) {
		return nil, false
	}
	p := &fastParser{src: src, next: 0, nextLine: 1}
	return p.documents(), true
}

// fastText reports whether src holds only characters the fast path reads the way yaml.v3 does:
// printable characters and '\n'. yaml.v3 rejects control characters, reads CR, NEL, LS and PS as
// line breaks and a BOM as an encoding mark, and tabs take part in indentation; all are declined.
func fastText(src []byte) bool {
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\n') || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		switch {
		case r == utf8.RuneError && size == 1, r <= 0x9f, r == 0x2028, r == 0x2029, r == 0xfeff, r >= 0xfffe && r <= 0xffff:
			return false
		}
		i += size
	}
	return true
}

// fastParser reads src line by line. A block collection is read by a loop over its lines at its
// indentation; a line at a smaller indentation ends it, and a line at any indentation no
// enclosing collection has, or of any form not in the subset, declines the file.
type fastParser struct {
	src      []byte
	next     int // offset of the first line not consumed
	nextLine int // its 1-based number
	l        fastLine
	depth    int
	nodes    []yaml.Node  // where nodes are allocated, many at a time
	children []*yaml.Node // where Content slices are allocated
	stack    []*yaml.Node // the children of the collections being read
	keys     map[string]string
}

// fastLine is the content line (not blank, not a comment) at p.next, found by peek.
type fastLine struct {
	start, end int // its bounds; end is at its '\n' or the end of src
	text       int // offset of its first non-space byte
	num        int // its 1-based number
	eof        bool
	marker     bool // "---": a document starts
}

func (l *fastLine) indent() int { return l.text - l.start }

func decline() { panic(fastDecline{}) }

// peek finds the next content line, skipping (consuming) blank and comment lines.
func (p *fastParser) peek() {
	src := p.src
	for p.next < len(src) {
		start := p.next
		end := bytes.IndexByte(src[start:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += start
		}
		text := start
		for text < end && src[text] == ' ' {
			text++
		}
		if text == end || src[text] == '#' {
			p.next, p.nextLine = end+1, p.nextLine+1
			continue
		}
		p.l = fastLine{start: start, end: end, text: text, num: p.nextLine}
		if text == start && bytes.HasPrefix(src[start:end], []byte("---")) && (end-start == 3 || src[start+3] == ' ') {
			p.l.marker = true
			p.endOfLine(start + 3)
		}
		if text == start && bytes.HasPrefix(src[start:end], []byte("...")) {
			decline() // a document end marker, or too near one to be sure
		}
		return
	}
	p.l = fastLine{start: len(src), end: len(src), text: len(src), num: p.nextLine, eof: true}
}

// consume moves past the current line.
func (p *fastParser) consume() {
	p.next, p.nextLine = p.l.end+1, p.l.num+1
}

// endOfLine checks that only spaces, or spaces and a comment, follow i on the current line.
func (p *fastParser) endOfLine(i int) {
	j := i
	for j < p.l.end && p.src[j] == ' ' {
		j++
	}
	if j < p.l.end && (p.src[j] != '#' || j == i) {
		decline()
	}
}

// column is yaml.v3's 1-based column of offset i of the current line: it counts characters.
func (p *fastParser) column(i int) int {
	return utf8.RuneCount(p.src[p.l.start:i]) + 1
}

// nodeSlab is how many nodes the fast path allocates at once: 30 kB of them, within Go's small
// allocations (a larger one costs more to allocate and to free).
const nodeSlab = 200

func (p *fastParser) node(kind yaml.Kind, style yaml.Style, value string, line, column int) *yaml.Node {
	if len(p.nodes) == cap(p.nodes) {
		p.nodes = make([]yaml.Node, 0, nodeSlab)
	}
	p.nodes = p.nodes[:len(p.nodes)+1]
	n := &p.nodes[len(p.nodes)-1] // set field by field: copying a whole Node in costs more
	n.Kind, n.Style, n.Value, n.Line, n.Column = kind, style, value, line, column
	// Tagged as yaml.v3 tags nodes: !!map, !!seq, !!str for quoted and literal scalars, plain
	// scalars resolved as it resolves them. It resolves only those that start with a character
	// in its resolveTable (a sign, a digit, '.', '<', '~' or the first letter of a boolean or
	// null); the rest, most of a catalog, are strings.
	switch {
	case kind == yaml.ScalarNode && style == 0 && value != "" && !resolvable(value[0]):
		n.Tag = "!!str"
	default:
		n.Tag = n.ShortTag()
	}
	return n
}

// resolvable reports whether yaml.v3 resolves a plain scalar starting with c by its value.
func resolvable(c byte) bool {
	switch c {
	case '+', '-', '.', '<', '~', 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O':
		return true
	}
	return '0' <= c && c <= '9'
}

// content returns the children pushed on the stack since mark, as one slice, and pops them.
func (p *fastParser) content(mark int) []*yaml.Node {
	kids := p.stack[mark:]
	n := len(kids)
	if n == 0 {
		return nil // as yaml.v3 leaves an empty collection
	}
	if len(p.children)+n > cap(p.children) {
		p.children = make([]*yaml.Node, 0, max(1024, n))
	}
	start := len(p.children)
	p.children = append(p.children, kids...)
	clear(kids)
	p.stack = p.stack[:mark]
	return p.children[start : start+n : start+n]
}

// documents reads the whole file.
func (p *fastParser) documents() []*yaml.Node {
	var docs []*yaml.Node
	for {
		p.peek()
		if p.l.eof {
			if len(docs) == 0 {
				decline() // no document: rare, and not worth mirroring
			}
			return docs
		}
		doc := &yaml.Node{Kind: yaml.DocumentNode}
		if p.l.marker {
			// An explicit document is where its marker is.
			doc.Line, doc.Column = p.l.num, 1
			p.consume()
			p.peek()
			if p.l.eof || p.l.marker {
				decline() // an empty document
			}
		} else if len(docs) > 0 {
			decline()
		}
		root := p.block(p.l.indent())
		if doc.Line == 0 {
			// An implicit document is where its content is.
			doc.Line, doc.Column = root.Line, root.Column
		}
		doc.Content = []*yaml.Node{root}
		docs = append(docs, doc)
		if !p.l.eof && !p.l.marker {
			decline() // content after the root collection, at a smaller indentation
		}
	}
}

// isEntry reports whether a block sequence entry ("- " or a lone "-") starts at i of the current
// line.
func (p *fastParser) isEntry(i int) bool {
	return p.src[i] == '-' && (i+1 == p.l.end || p.src[i+1] == ' ')
}

// block reads the block collection that starts on the current line, at indentation indent.
func (p *fastParser) block(indent int) *yaml.Node {
	if p.depth++; p.depth > maxFastDepth {
		decline()
	}
	defer func() { p.depth-- }()
	if p.isEntry(p.l.text) {
		return p.sequence(indent, false)
	}
	return p.mapping(indent, p.l.text)
}

// sequence reads a block sequence whose entries are at column indent. An indentless one (under a
// key, at the key's indentation) ends at the first line there that is not an entry.
func (p *fastParser) sequence(indent int, indentless bool) *yaml.Node {
	seq := p.node(yaml.SequenceNode, 0, "", p.l.num, indent+1)
	mark := len(p.stack)
	for {
		p.stack = append(p.stack, p.value(indent, p.l.text+1, true))
		p.peek()
		if p.l.eof || p.l.marker || p.l.indent() < indent {
			break
		}
		if p.l.indent() > indent {
			decline()
		}
		if !p.isEntry(p.l.text) {
			if indentless {
				break // the next key of the mapping around the sequence
			}
			decline()
		}
	}
	seq.Content = p.content(mark)
	return seq
}

// mapping reads a block mapping whose keys are at column indent, the first at offset at of the
// current line.
func (p *fastParser) mapping(indent, at int) *yaml.Node {
	m := p.node(yaml.MappingNode, 0, "", p.l.num, p.column(at))
	mark := len(p.stack)
	for {
		key, after := p.key(at)
		if key == nil {
			decline()
		}
		p.stack = append(p.stack, key, p.value(indent, after, false))
		p.peek()
		if p.l.eof || p.l.marker || p.l.indent() < indent {
			break
		}
		if p.l.indent() > indent || p.isEntry(p.l.text) {
			decline()
		}
		at = p.l.text
	}
	m.Content = p.content(mark)
	return m
}

// key reads the key at offset i of the current line and its ':', returning the key's node and
// the offset after the ':'; nil when there is no key there.
func (p *fastParser) key(i int) (*yaml.Node, int) {
	src := p.src
	var value string
	var style yaml.Style
	var j int
	switch src[i] {
	case '"', '\'':
		value, j = p.quoted(i)
		style = yaml.DoubleQuotedStyle
		if src[i] == '\'' {
			style = yaml.SingleQuotedStyle
		}
	default:
		var end int
		end, j = p.plain(i, false)
		if end == i {
			return nil, 0
		}
		value = p.intern(src[i:end])
	}
	for j < p.l.end && src[j] == ' ' {
		j++
	}
	if j == p.l.end || src[j] != ':' || (j+1 < p.l.end && src[j+1] != ' ') {
		return nil, 0
	}
	if j-i > maxFastKey {
		decline()
	}
	return p.node(yaml.ScalarNode, style, value, p.l.num, p.column(i)), j + 1
}

// intern returns b as a string, shared with the same keys before it: a catalog's keys are few.
func (p *fastParser) intern(b []byte) string {
	if s, ok := p.keys[string(b)]; ok {
		return s
	}
	if p.keys == nil {
		p.keys = make(map[string]string, 64)
	}
	s := string(b)
	p.keys[s] = s
	return s
}

// value reads the value after an indicator (a key's ':' or an entry's '-') that ends at offset
// at of the current line, in a collection at column indent, and consumes its lines.
func (p *fastParser) value(indent, at int, entry bool) *yaml.Node {
	src := p.src
	i := at
	for i < p.l.end && src[i] == ' ' {
		i++
	}
	if i == p.l.end || src[i] == '#' {
		// Nothing more on the line: the value is the block below, or null, which yaml.v3 places
		// just after the indicator.
		line, column := p.l.num, p.column(at)
		p.consume()
		p.peek()
		if !p.l.eof && !p.l.marker {
			if n := p.l.indent(); n > indent {
				return p.block(n)
			} else if n == indent && !entry && p.isEntry(p.l.text) {
				return p.sequence(indent, true)
			}
		}
		return p.node(yaml.ScalarNode, 0, "", line, column)
	}
	line, column := p.l.num, p.column(i)
	var n *yaml.Node
	switch src[i] {
	case '"', '\'':
		value, j := p.quoted(i)
		if entry && p.keyFollows(j) {
			return p.compactMapping(i)
		}
		style := yaml.DoubleQuotedStyle
		if src[i] == '\'' {
			style = yaml.SingleQuotedStyle
		}
		n = p.node(yaml.ScalarNode, style, value, line, column)
		p.endOfLine(j)
	case '[':
		n = p.flowSequence(i)
	case '{':
		j := i + 1
		for j < p.l.end && src[j] == ' ' {
			j++
		}
		if j == p.l.end || src[j] != '}' {
			decline() // a flow mapping
		}
		n = p.node(yaml.MappingNode, yaml.FlowStyle, "", line, column)
		p.endOfLine(j + 1)
	case '|':
		return p.literal(indent, i)
	default:
		end, j := p.plain(i, false)
		if end == i {
			decline()
		}
		if entry && p.keyFollows(j) {
			return p.compactMapping(i)
		}
		n = p.node(yaml.ScalarNode, 0, string(src[i:end]), line, column)
		p.endOfLine(j)
	}
	p.consume()
	return n
}

// keyFollows reports whether a ':' ending a key follows offset j of the current line.
func (p *fastParser) keyFollows(j int) bool {
	for j < p.l.end && p.src[j] == ' ' {
		j++
	}
	return j < p.l.end && p.src[j] == ':' && (j+1 == p.l.end || p.src[j+1] == ' ')
}

// compactMapping reads the mapping that starts after an entry's "- ", at offset i.
func (p *fastParser) compactMapping(i int) *yaml.Node {
	if p.depth++; p.depth > maxFastDepth {
		decline()
	}
	defer func() { p.depth-- }()
	// The prefix is spaces and '-': the offset in the line is the column.
	return p.mapping(i-p.l.start, i)
}

// plainStart reports whether a plain scalar may start at offset i of the current line. Of the
// indicators yaml.v3 lets start one in some places, only '-' before a letter, digit or '.' is
// accepted.
func (p *fastParser) plainStart(i int) bool {
	switch p.src[i] {
	case '-':
		if i+1 == p.l.end {
			return false
		}
		c := p.src[i+1]
		return c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	case ' ', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	}
	return true
}

// plain scans the plain scalar at offset i of the current line, as yaml.v3 does on one line:
// ": " (or ':' at the end of the line) and " #" end it, and in a flow collection ',' and ']'. It
// returns where its text ends (trailing spaces are not part of it) and where scanning stopped;
// end is i when no plain scalar starts there.
func (p *fastParser) plain(i int, flow bool) (end, stop int) {
	if !p.plainStart(i) {
		return i, i
	}
	src, lend := p.src, p.l.end
	j := i
	for j < lend {
		switch c := src[j]; c {
		case ' ':
			k := j
			for k < lend && src[k] == ' ' {
				k++
			}
			if k == lend || src[k] == '#' || flow && (src[k] == ',' || src[k] == ']') ||
				src[k] == ':' && (k+1 == lend || src[k+1] == ' ') {
				return j, j
			}
			j = k
			continue
		case ':':
			if j+1 == lend || src[j+1] == ' ' {
				return j, j
			}
			if flow && bytes.IndexByte([]byte(",[]{}"), src[j+1]) >= 0 {
				decline() // a ':' next to a flow indicator, too near a flow mapping to be sure
			}
		case ',', ']':
			if flow {
				return j, j
			}
		case '[', '{', '}', '?':
			if flow {
				decline() // in a flow collection these end a plain scalar, or nest one
			}
		}
		j++
	}
	return j, j
}

// quoted reads the quoted scalar at offset i of the current line; it returns the value and the
// offset after the closing quote. One that goes on to the next line is declined.
func (p *fastParser) quoted(i int) (string, int) {
	src, lend := p.src, p.l.end
	q := src[i]
	j := i + 1
	// The value is the text between the quotes unless it holds escapes.
	for j < lend && src[j] != q && src[j] != '\\' {
		j++
	}
	if j == lend {
		decline()
	}
	if src[j] == q && (q == '"' || j+1 == lend || src[j+1] != '\'') {
		return string(src[i+1 : j]), j + 1
	}
	buf := append([]byte(nil), src[i+1:j]...)
	for {
		if j == lend {
			decline() // a line break in a quoted scalar
		}
		c := src[j]
		switch {
		case q == '\'' && c == '\'':
			if j+1 < lend && src[j+1] == '\'' {
				buf = append(buf, '\'')
				j += 2
				continue
			}
			return string(buf), j + 1
		case q == '"' && c == '"':
			return string(buf), j + 1
		case q == '"' && c == '\\':
			buf, j = p.escape(buf, j)
		default:
			buf = append(buf, c)
			j++
		}
	}
}

// fastEscapes are the one-character escapes of double-quoted scalars, as yaml.v3 reads them.
var fastEscapes = [256]string{'0': "\x00", 'a': "\a", 'b': "\b", 't': "\t", 'n': "\n", 'v': "\v", 'f': "\f",
	'r': "\r", 'e': "\x1b", ' ': " ", '"': "\"", '\'': "'", '\\': "\\", 'N': "\u0085", '_': "\u00a0",
	'L': "\u2028", 'P': "\u2029"}

// escape reads the escape at offset j (its '\\') of the current line onto buf.
func (p *fastParser) escape(buf []byte, j int) ([]byte, int) {
	src, lend := p.src, p.l.end
	if j+1 == lend {
		decline() // an escaped line break
	}
	c := src[j+1]
	if s := fastEscapes[c]; s != "" {
		return append(buf, s...), j + 2
	}
	digits := 0
	switch c {
	case 'x':
		digits = 2
	case 'u':
		digits = 4
	case 'U':
		digits = 8
	}
	if digits == 0 || j+2+digits > lend {
		decline() // an escape yaml.v3 rejects
	}
	r := 0 // not a rune: eight hex digits overflow one
	for _, h := range src[j+2 : j+2+digits] {
		switch {
		case '0' <= h && h <= '9':
			r = r<<4 | int(h-'0')
		case 'a' <= h && h <= 'f':
			r = r<<4 | int(h-'a'+10)
		case 'A' <= h && h <= 'F':
			r = r<<4 | int(h-'A'+10)
		default:
			decline()
		}
	}
	if r >= 0xd800 && r <= 0xdfff || r > utf8.MaxRune {
		decline() // yaml.v3 rejects it
	}
	return utf8.AppendRune(buf, rune(r)), j + 2 + digits
}

// flowSequence reads the one-line flow sequence at offset i of the current line, of plain and
// quoted scalars.
func (p *fastParser) flowSequence(i int) *yaml.Node {
	src, lend := p.src, p.l.end
	seq := p.node(yaml.SequenceNode, yaml.FlowStyle, "", p.l.num, p.column(i))
	mark := len(p.stack)
	skip := func(j int) int {
		for j < lend && src[j] == ' ' {
			j++
		}
		return j
	}
	j := skip(i + 1)
	if j < lend && src[j] == ']' {
		p.endOfLine(j + 1)
		return seq
	}
	for {
		if j == lend {
			decline() // the sequence goes on to the next line
		}
		var item *yaml.Node
		switch src[j] {
		case '"', '\'':
			value, k := p.quoted(j)
			style := yaml.DoubleQuotedStyle
			if src[j] == '\'' {
				style = yaml.SingleQuotedStyle
			}
			item = p.node(yaml.ScalarNode, style, value, p.l.num, p.column(j))
			j = k
		default:
			end, k := p.plain(j, true)
			if end == j {
				decline()
			}
			item = p.node(yaml.ScalarNode, 0, string(src[j:end]), p.l.num, p.column(j))
			j = k
		}
		p.stack = append(p.stack, item)
		j = skip(j)
		if j == lend {
			decline()
		}
		if src[j] == ']' {
			break
		}
		if src[j] != ',' {
			decline()
		}
		j = skip(j + 1)
		if j < lend && src[j] == ']' {
			decline() // a trailing comma
		}
	}
	seq.Content = p.content(mark)
	p.endOfLine(j + 1)
	return seq
}

// literal reads the literal block scalar whose '|' is at offset i of the current line, in a
// collection at column indent, as yaml.v3 does: its indentation is that of its first non-empty
// line, its lines keep what follows that indentation, and the chomping indicator says which of
// the final line breaks it keeps.
func (p *fastParser) literal(indent, i int) *yaml.Node {
	src := p.src
	n := p.node(yaml.ScalarNode, yaml.LiteralStyle, "", p.l.num, p.column(i))
	j := i + 1
	chomp := byte(0)
	if j < p.l.end && (src[j] == '-' || src[j] == '+') {
		chomp = src[j]
		j++
	}
	p.endOfLine(j) // declines an indentation indicator too
	p.consume()

	// lines yields the lines from p.next: their bounds and the spaces they start with.
	type line struct{ start, end, spaces int }
	read := func() (l line, ok bool) {
		if p.next >= len(src) {
			return line{}, false
		}
		l.start = p.next
		e := bytes.IndexByte(src[l.start:], '\n')
		if e < 0 {
			decline() // the last line has no line break; yaml.v3's reading of it is not mirrored
		}
		l.end = l.start + e
		for l.start+l.spaces < l.end && src[l.start+l.spaces] == ' ' {
			l.spaces++
		}
		return l, true
	}
	advance := func(l line) { p.next, p.nextLine = l.end+1, p.nextLine+1 }

	// The leading empty lines, and the first non-empty one, which sets the indentation.
	var breaks int // empty lines not yet written
	maxSpaces := 0
	var l line
	for {
		var ok bool
		if l, ok = read(); !ok {
			decline() // an empty scalar
		}
		maxSpaces = max(maxSpaces, l.spaces)
		if l.start+l.spaces < l.end {
			break
		}
		breaks++
		advance(l)
	}
	width := max(maxSpaces, indent+1)
	if l.spaces < width {
		decline() // an empty scalar (or a leading empty line indented more than the first)
	}
	var buf []byte
	for {
		// l is a non-empty line at least width deep.
		buf = append(buf, bytes.Repeat([]byte{'\n'}, breaks)...)
		buf = append(buf, src[l.start+width:l.end]...)
		buf = append(buf, '\n')
		breaks = 0
		advance(l)
		// Empty lines (no more than spaces up to width), until the next non-empty line.
		var ok bool
		for {
			if l, ok = read(); !ok {
				break
			}
			if l.spaces < width && l.start+l.spaces < l.end {
				ok = false // a less indented line ends the scalar
				break
			}
			if l.start+width < l.end {
				break // the scalar's next line
			}
			breaks++
			advance(l)
		}
		if !ok {
			break
		}
	}
	switch chomp {
	case '-':
		buf = buf[:len(buf)-1]
	case '+':
		buf = append(buf, bytes.Repeat([]byte{'\n'}, breaks)...)
	}
	n.Value = string(buf)
	return n
}
