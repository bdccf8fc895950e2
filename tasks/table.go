package tasks

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/portside-dev/portside/errs"
)

// Format is a status-meeting table's format.
type Format string

// The formats.
const (
	Markdown Format = "MARKDOWN"
	CSV      Format = "CSV"
)

// ParseFormat reads a format name ("markdown", "md", "csv").
func ParseFormat(field, s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "markdown", "md", "":
		return Markdown, nil
	case "csv":
		return CSV, nil
	}
	return "", errs.InvalidField(field, "%q is not a table format; use markdown or csv", clip(s))
}

// The table's columns, as export writes them.
const (
	ColTask     = "Task"
	ColPriority = "Priority"
	ColAssignee = "Assignee"
	ColStatus   = "Status"
	ColComments = "Comments / Issues"
)

// Columns are the table's columns in the order export writes them.
var Columns = []string{ColTask, ColPriority, ColAssignee, ColStatus, ColComments}

// columnOf reads a header cell: case, spacing and punctuation do not count ("comments/issues",
// "COMMENTS / ISSUES", "Comments"). "" for a column the table does not know.
func columnOf(header string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(header) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	switch b.String() {
	case "task", "tasks", "title":
		return ColTask
	case "priority":
		return ColPriority
	case "assignee", "assignedto":
		return ColAssignee
	case "status":
		return ColStatus
	case "commentsissues", "comments", "comment", "issues", "commentissue", "commentsandissues":
		return ColComments
	}
	return ""
}

// Row is one data row of a table, by column.
type Row struct {
	// Row is the data row's number (1 for the first row under the header); Line its line in the
	// text (a CSV record's first line).
	Row                                        int
	Line                                       int
	Task, Priority, Assignee, Status, Comments string
	// HasComments says the table has the Comments / Issues column; without it, an import leaves
	// the tasks' comments as they are.
	HasComments bool
}

// CellError is a problem with one cell (or row, with Column "") of an imported table. Row 0 is
// the header.
type CellError struct {
	Row     int
	Line    int
	Column  string
	Message string
}

// ImportErrors is every problem an import found; nothing was imported. It is INVALID.
type ImportErrors struct {
	Errors []CellError
}

func (e *ImportErrors) Error() string {
	lines := make([]string, len(e.Errors))
	for i, c := range e.Errors {
		lines[i] = c.String()
	}
	return e.summary().Message + ":\n" + strings.Join(lines, "\n")
}

func (e *ImportErrors) summary() *errs.Error {
	problems := "problems"
	if len(e.Errors) == 1 {
		problems = "problem"
	}
	return errs.E(errs.Invalid, "the table has %d %s; nothing was imported", len(e.Errors), problems)
}

// Unwrap makes the errors INVALID for errs.CodeOf and the audit log.
func (e *ImportErrors) Unwrap() error { return e.summary() }

// ParseTable reads a status-meeting table. The problems of the header and of every row are
// returned together, in row order.
func ParseTable(format Format, text string) ([]Row, []CellError) {
	var records [][]string
	var lines []int
	var problems []CellError
	switch format {
	case Markdown:
		records, lines, problems = markdownRecords(text)
	case CSV:
		records, lines, problems = csvRecords(text)
	default:
		return nil, []CellError{{Message: fmt.Sprintf("%q is not a table format", format)}}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	if len(records) == 0 {
		return nil, []CellError{{Message: "there is no table: the first line with cells is the header (Task | Priority | Assignee | Status | Comments / Issues)"}}
	}
	// The header.
	index := map[string]int{}
	for i, h := range records[0] {
		col := columnOf(h)
		switch {
		case col == "":
			problems = append(problems, CellError{Line: lines[0], Column: strings.TrimSpace(h),
				Message: fmt.Sprintf("unknown column %q; the columns are %s", clip(strings.TrimSpace(h)), strings.Join(Columns, ", "))})
		case index[col] != 0:
			problems = append(problems, CellError{Line: lines[0], Column: col, Message: "the column appears twice"})
		default:
			index[col] = i + 1
		}
	}
	for _, col := range Columns[:4] {
		if index[col] == 0 {
			problems = append(problems, CellError{Line: lines[0], Column: col, Message: "the column is missing"})
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	cell := func(rec []string, col string) string {
		if i := index[col]; i > 0 && i <= len(rec) {
			return strings.TrimSpace(rec[i-1])
		}
		return ""
	}
	var rows []Row
	for n, rec := range records[1:] {
		r := Row{Row: n + 1, Line: lines[n+1], Task: cell(rec, ColTask), Priority: cell(rec, ColPriority), Assignee: cell(rec, ColAssignee),
			Status: cell(rec, ColStatus), Comments: cell(rec, ColComments), HasComments: index[ColComments] > 0}
		if len(rec) != len(records[0]) {
			problems = append(problems, CellError{Row: r.Row, Line: r.Line,
				Message: fmt.Sprintf("has %d cells; the header has %d", len(rec), len(records[0]))})
			continue
		}
		rows = append(rows, r)
	}
	return rows, problems
}

// markdownRecords reads the cells of a Markdown (GitHub-flavoured) table: the first line with a
// "|" is the header, the next must be its delimiter row (---), and the table ends at the first
// line without a "|". Text before the table is ignored, so a pasted meeting note imports.
func markdownRecords(text string) ([][]string, []int, []CellError) {
	var records [][]string
	var lines []int
	all := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	start := -1
	for i, l := range all {
		if strings.Contains(l, "|") {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, nil, nil
	}
	header := splitMarkdownRow(all[start])
	if start+1 >= len(all) || !isDelimiterRow(all[start+1], len(header)) {
		return nil, nil, []CellError{{Line: start + 2, Message: "the header must be followed by a delimiter row such as |---|---|---|---|---|"}}
	}
	records, lines = append(records, header), append(lines, start+1)
	for i := start + 2; i < len(all); i++ {
		l := all[i]
		if !strings.Contains(l, "|") {
			break
		}
		records, lines = append(records, splitMarkdownRow(l)), append(lines, i+1)
	}
	return records, lines, nil
}

// splitMarkdownRow splits a table row into its cells; "\|" is a "|" inside a cell, and the pipes
// at either end are optional.
func splitMarkdownRow(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	if strings.HasSuffix(line, "|") && !strings.HasSuffix(line, `\|`) {
		line = strings.TrimSuffix(line, "|")
	}
	var cells []string
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			b.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, b.String())
			b.Reset()
		default:
			b.WriteByte(line[i])
		}
	}
	return append(cells, b.String())
}

func isDelimiterRow(line string, n int) bool {
	cells := splitMarkdownRow(line)
	if len(cells) != n {
		return false
	}
	for _, c := range cells {
		c = strings.Trim(strings.TrimSpace(c), ":")
		if c == "" || strings.Trim(c, "-") != "" {
			return false
		}
	}
	return true
}

// csvRecords reads CSV records (RFC 4180, as encoding/csv does), skipping blank lines.
func csvRecords(text string) ([][]string, []int, []CellError) {
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1 // a row with too few or many cells is reported by ParseTable, by row
	var records [][]string
	var lines []int
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, nil, []CellError{{Row: max(len(records), 0), Line: pe.Line, Message: "not CSV: " + pe.Err.Error()}}
			}
			return nil, nil, []CellError{{Message: "not CSV: " + err.Error()}}
		}
		line, _ := r.FieldPos(0)
		records, lines = append(records, rec), append(lines, line)
	}
	return records, lines, nil
}

// RenderTable writes tasks as a status-meeting table with the assignee labels given (by User ref).
func RenderTable(format Format, list []Task, assignees map[string]string) (string, error) {
	rows := make([][]string, 0, len(list)+1)
	rows = append(rows, slices.Clone(Columns))
	for _, t := range list {
		rows = append(rows, []string{t.Title, t.Priority.Label(), assignees[t.Assignee], t.Status.Label(), t.Comment})
	}
	switch format {
	case CSV:
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		if err := w.WriteAll(rows); err != nil {
			return "", errs.Wrap(errs.Internal, err, "tasks: write CSV")
		}
		return b.String(), nil
	case Markdown:
		var b strings.Builder
		for i, r := range rows {
			b.WriteString("|")
			for _, c := range r {
				b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
			}
			b.WriteString("\n")
			if i == 0 {
				b.WriteString(strings.Repeat("|---", len(r)) + "|\n")
			}
		}
		return b.String(), nil
	}
	return "", errs.InvalidField("format", "%q is not a table format", format)
}
