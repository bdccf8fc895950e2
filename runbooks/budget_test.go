package runbooks

import (
	"strings"
	"testing"
	"time"

	"github.com/yuin/goldmark/parser"

	"github.com/portside-dev/portside/errs"
)

// Markdown whose rendering grows faster than its size is stopped at its budget from inside
// goldmark, and refused naming the field; it does not run to its end. (A budget of 20 ms against
// inputs that take seconds: whether it stopped is what the error says, not a timing.)
func TestARenderingPastItsBudgetIsStoppedAndRefused(t *testing.T) {
	for name, src := range map[string]string{
		"unclosed links":       strings.Repeat("[a](", 30_000),
		"unclosed images":      "text\n\n" + strings.Repeat("![a](", 30_000),
		"deeply nested quotes": strings.Repeat(">", 100_000),
	} {
		for _, pieces := range []int{1, 4} {
			_, err := renderWithin(src, pieces, 20*time.Millisecond)
			if errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != "markdown" || !strings.Contains(err.Error(), "takes more than 20ms to render") {
				t.Errorf("%s in %d pieces: %v, want INVALID markdown taking too long", name, pieces, err)
			}
		}
	}
}

// A table is as many cells as its delimiter row's columns times its rows, whatever its text
// holds: a header of thousands of empty columns over thousands of one-character rows is millions
// of cells from a few kilobytes, refused before any parse.
func TestATableOfMoreCellsThanARunbookHoldsIsRefusedBeforeParsing(t *testing.T) {
	cols, rows := 2000, 2000
	src := strings.Repeat("|", cols+1) + "\n" + strings.Repeat("|-", cols) + "|\n" + strings.Repeat("|\n", rows)
	if got := tableCells([]byte(src)); got != cols*(rows+1) {
		t.Fatalf("tableCells = %d, want %d", got, cols*(rows+1))
	}
	_, err := RenderMarkdown(src)
	if errs.FieldOf(err) != "markdown" || !strings.Contains(err.Error(), "has tables of 4002000 cells together") {
		t.Errorf("the padded table: %v", err)
	}
	// Tables of real runbooks, a thematic break and a setext heading are no such thing.
	ok := "| Step | Command |\n|:---|---:|\n| 1 | `kubectl get pods` |\n| 2 | restart |\n\n---\n\nTitle\n-----\n\n- a | b\n"
	if got := tableCells([]byte(ok)); got != 6 {
		t.Errorf("tableCells of a 2-column, 3-row table and a break = %d, want 6", got)
	}
	if html, err := RenderMarkdown(ok); err != nil || !strings.Contains(html, "<table>") {
		t.Errorf("a real table: %v\n%s", err, html)
	}
}

// goldmark opens a paragraph at a character only when no block parser is triggered by it, so
// the deadline's block parser may trigger only where goldmark's own do: anywhere else it would
// turn the lines starting there into nothing.
func TestTheDeadlineParserTriggersOnlyWhereGoldmarkDoes(t *testing.T) {
	own := map[byte]bool{}
	for _, v := range parser.DefaultBlockParsers() {
		for _, c := range v.Value.(parser.BlockParser).Trigger() {
			own[c] = true
		}
	}
	for _, c := range []byte(deadlineBlockTriggers) {
		if !own[c] {
			t.Errorf("the deadline's block parser triggers at %q, where no goldmark parser does", c)
		}
	}
	html, err := RenderMarkdown("plain\n\n= not a heading\n\n_ not a break\n\n9 not a list\n\n> quote\n")
	if err != nil || strings.Count(html, "<p>") != 5 || !strings.Contains(html, "<blockquote>") {
		t.Errorf("paragraphs starting at trigger characters: %v\n%s", err, html)
	}
}

// A table in a quote or a list item is counted as one outside them.
func TestATableInsideAQuoteOrAListIsCountedToo(t *testing.T) {
	cols, rows := 2000, 2000
	quoted := "> " + strings.Repeat("|", cols+1) + "\n> " + strings.Repeat("|-", cols) + "|\n" + strings.Repeat("> |\n", rows)
	listed := "- " + strings.Repeat("|", cols+1) + "\n  " + strings.Repeat("|-", cols) + "|\n" + strings.Repeat("  |\n", rows)
	nested := "1. > " + strings.Repeat("|", 11) + "\n   > " + strings.Repeat("|-", 10) + "|\n   > |\n"
	for name, src := range map[string]string{"quoted": quoted, "listed": listed} {
		if got := tableCells([]byte(src)); got != cols*(rows+1) {
			t.Errorf("tableCells(%s) = %d, want %d", name, got, cols*(rows+1))
		}
		if _, err := RenderMarkdown(src); errs.FieldOf(err) != "markdown" || !strings.Contains(err.Error(), "cells together") {
			t.Errorf("the %s padded table: %v", name, err)
		}
	}
	if got := tableCells([]byte(nested)); got != 20 {
		t.Errorf("tableCells(a table in a quote in a list) = %d, want 20", got)
	}
}
