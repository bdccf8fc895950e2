package rollouts

import (
	"fmt"
	"testing"
	"time"
)

// describeReached shows the steps a progress reached as step@weight.
func describeReached(p *CanaryProgress) string {
	var out []string
	for _, r := range p.Reached {
		out = append(out, fmt.Sprintf("%d@%d", r.Step, r.Weight))
	}
	return fmt.Sprint(out)
}

// Every replica reads the canary and records its progress on one row: a read taken before a step
// another replica already recorded adds nothing (it once made 1@5 0@5 1@5 out of one pause at 5%),
// while an aborted canary, retried, starts from its first step again.
func TestAnOlderLookAtTheCanaryDoesNotMoveItsProgressBack(t *testing.T) {
	steps := []CanaryStep{{Kind: "setWeight"}, {Kind: "pause"}, {Kind: "setWeight"}, {Kind: "pause"}, {Kind: "setWeight"}}
	look := func(step, weight int, aborted bool) *Canary {
		return &Canary{Strategy: "canary", Steps: steps, CurrentStep: step, SetWeight: weight, Aborted: aborted,
			StableRevision: "h1", CanaryRevision: "h2"}
	}
	at := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	p := &CanaryProgress{}
	for i, c := range []struct {
		look    *Canary
		changed bool
		want    string
	}{
		{look(1, 5, false), true, "[1@5]"},
		{look(0, 5, false), false, "[1@5]"}, // read before the pause: behind
		{look(1, 5, false), false, "[1@5]"},
		{look(3, 25, false), true, "[1@5 3@25]"},
		{look(1, 5, false), false, "[1@5 3@25]"},
		{look(3, 25, true), true, "[1@5 3@25]"},     // aborted
		{look(0, 5, false), true, "[1@5 3@25 0@5]"}, // retried from the first step
		{look(1, 5, false), true, "[1@5 3@25 0@5 1@5]"},
	} {
		if got := p.advance(c.look, at.Add(time.Duration(i)*time.Second)); got != c.changed || describeReached(p) != c.want {
			t.Fatalf("look %d (step %d, aborted %v): changed %v, reached %s; want %v, %s", i, c.look.CurrentStep, c.look.Aborted, got, describeReached(p), c.changed, c.want)
		}
	}
}
