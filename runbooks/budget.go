package runbooks

import (
	"bytes"
	"time"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"github.com/portside-dev/portside/errs"
)

// The bounds of one rendering. goldmark's cost is not linear in everything an author controls:
// 200 KB of "[a](" took 12 s (each opening bracket scans the rest for its link), 100,000 ">"
// 4 s, and a 12 KB table of 2,000 empty columns padded over 2,000 rows 4 s and 1.2 GB of memory
// for 45 MB of HTML. Real runbooks render in milliseconds and hold tables of tens of cells.
const (
	// RenderTime bounds the time one rendering may take; a runbook that takes longer is refused
	// when written, and answered as too slow to render when read (an older one).
	RenderTime = 2 * time.Second
	// MaxTableCells bounds the cells of a runbook's tables together (each table's columns, as its
	// delimiter row counts them, times its rows: goldmark pads short rows to the header's width).
	MaxTableCells = 100_000
	// MaxHTMLBytes bounds the HTML of one runbook.
	MaxHTMLBytes = 8 << 20
)

// tooSlow is the panic that stops a rendering past its deadline, from inside goldmark.
type tooSlow struct{}

// slowError is what a rendering stopped past its deadline answers.
// It wraps tooSlowError: unlike the other refusals it depends on how busy the machine is.
func slowError(budget time.Duration) error {
	e := errs.InvalidField("markdown", "takes more than %s to render (long runs of unclosed brackets, quotes nested thousands deep): write it as plainer Markdown", budget)
	e.Err = tooSlowError{}
	return e
}

// deadlineOf is the deadline a piece's parse runs to (zero: none, as in the tests' reference).
func deadlineOf(pc parser.Context) time.Time {
	if c, ok := pc.(*pieceContext); ok {
		return c.deadline
	}
	return time.Time{}
}

func checkDeadline(pc parser.Context) {
	if d := deadlineOf(pc); !d.IsZero() && time.Now().After(d) {
		panic(tooSlow{})
	}
}

// deadlineBlocks is a block parser tried before the others wherever a block that nests or
// repeats can open (a quote, a list item, a heading, a fence, a break), which opens nothing: it
// only stops a parse past its deadline. Blocks are opened line by line and level by level, so it
// is tried at each. (goldmark tries a trigger's parsers, then those without a trigger, such as
// paragraphs; TestTheDeadlineParserTriggersOnlyWhereGoldmarkDoes holds the output unchanged.)
type deadlineBlocks struct{}

// deadlineBlockTriggers are the characters goldmark's block parsers start at.
const deadlineBlockTriggers = "><-+*#`~_=0123456789"

func (deadlineBlocks) Trigger() []byte { return []byte(deadlineBlockTriggers) }
func (deadlineBlocks) Open(_ ast.Node, _ text.Reader, pc parser.Context) (ast.Node, parser.State) {
	checkDeadline(pc)
	return nil, parser.NoChildren
}
func (deadlineBlocks) Continue(ast.Node, text.Reader, parser.Context) parser.State {
	return parser.Close
}
func (deadlineBlocks) Close(ast.Node, text.Reader, parser.Context) {}
func (deadlineBlocks) CanInterruptParagraph() bool                 { return true }
func (deadlineBlocks) CanAcceptIndentedLine() bool                 { return true }

// deadlineInlines is the same for inline parsing: tried before the others at each character
// that starts a link, an image, code, emphasis or an autolink (goldmark looks parsers up at
// punctuation), the scans whose cost can grow with the rest of the block.
type deadlineInlines struct{}

func (deadlineInlines) Trigger() []byte {
	return []byte{'[', ']', '!', '`', '*', '_', '~', '<', ':', 'w', 'h'}
}
func (deadlineInlines) Parse(_ ast.Node, _ text.Reader, pc parser.Context) ast.Node {
	checkDeadline(pc)
	return nil
}

// deadlineParsers are goldmark's options adding both, ahead of every other parser.
func deadlineParsers() []parser.Option {
	return []parser.Option{
		parser.WithBlockParsers(util.Prioritized(deadlineBlocks{}, 0)),
		parser.WithInlineParsers(util.Prioritized(deadlineInlines{}, 0)),
	}
}

// tableCells counts the cells of the tables in src as goldmark lays them out: each delimiter row
// (|---|:--:|) gives its table's columns, and the table runs from the line above it to the next
// blank line. A cheap scan of lines, before any parse.
func tableCells(src []byte) int {
	cells := 0
	lines := bytes.Split(src, []byte{'\n'})
	for i := range lines {
		lines[i] = uncontained(lines[i])
	}
	for i := 1; i < len(lines); i++ {
		cols, ok := delimiterRow(lines[i])
		if !ok {
			continue
		}
		rows := 1 // the header
		for j := i + 1; j < len(lines) && !isBlank(lines[j]); j++ {
			rows++
		}
		cells += cols * rows
	}
	return cells
}

// uncontained is line without the markers of the blocks that may contain a table (quotes, list
// items, their indentation): a table inside a quote is a table all the same.
func uncontained(line []byte) []byte {
	for {
		trimmed := bytes.TrimLeft(line, " \t>")
		switch {
		case len(trimmed) >= 2 && (trimmed[0] == '-' || trimmed[0] == '*' || trimmed[0] == '+') && (trimmed[1] == ' ' || trimmed[1] == '\t'):
			trimmed = trimmed[2:]
		default:
			n := 0
			for n < len(trimmed) && n < 9 && trimmed[n] >= '0' && trimmed[n] <= '9' {
				n++
			}
			if n > 0 && n+1 < len(trimmed) && (trimmed[n] == '.' || trimmed[n] == ')') && (trimmed[n+1] == ' ' || trimmed[n+1] == '\t') {
				trimmed = trimmed[n+2:]
			}
		}
		if len(trimmed) == len(line) {
			return line
		}
		line = trimmed
	}
}

// delimiterRow reports whether line is a table's delimiter row and how many columns it has.
func delimiterRow(line []byte) (int, bool) {
	line = bytes.TrimSpace(line)
	if bytes.IndexByte(line, '-') < 0 || bytes.IndexByte(line, '|') < 0 {
		return 0, false
	}
	for _, c := range line {
		switch c {
		case '|', '-', ':', ' ', '\t':
		default:
			return 0, false
		}
	}
	line = bytes.TrimSuffix(bytes.TrimPrefix(line, []byte{'|'}), []byte{'|'})
	return bytes.Count(line, []byte{'|'}) + 1, true
}
