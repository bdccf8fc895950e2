package main

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// TestServeTakesItsMemoryLimitFromItsContainer gives limitMemoryToContainer the limits a
// container may report: 90 % of a limit becomes the runtime's soft limit, and none, a failure
// to read one (answered -1), a GOMEMLIMIT of the environment or AUTOMEMLIMIT=off leave the
// runtime alone.
// Not parallel: the runtime's memory limit is the process's.
func TestServeTakesItsMemoryLimitFromItsContainer(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	const gib = 1 << 30
	unreadable := func() (uint64, error) { return 0, errors.New("cgroup: permission denied") }
	for _, c := range []struct {
		name     string
		env      map[string]string
		provider memlimit.Provider
		want     int64 // the limit returned and set; 0: none returned, the runtime's left as it was
		warns    bool
	}{
		{"a container limited to 1 GiB", nil, memlimit.Limit(gib), gib * 9 / 10, false},
		{"AUTOMEMLIMIT sets the ratio", map[string]string{"AUTOMEMLIMIT": "0.5"}, memlimit.Limit(gib), gib / 2, false},
		{"no limit", nil, func() (uint64, error) { return 0, memlimit.ErrNoLimit }, 0, false},
		{"the limit cannot be read", nil, unreadable, -1, true},
		{"GOMEMLIMIT wins", map[string]string{"GOMEMLIMIT": "300MiB"}, memlimit.Limit(gib), 0, false},
		{"AUTOMEMLIMIT=off", map[string]string{"AUTOMEMLIMIT": "off"}, memlimit.Limit(gib), 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			debug.SetMemoryLimit(math.MaxInt64)
			var logs bytes.Buffer
			got := limitMemoryToContainer(c.provider, slog.New(slog.NewTextHandler(&logs, nil)))
			set := debug.SetMemoryLimit(-1)
			switch {
			case got != c.want:
				t.Errorf("returned %d, want %d", got, c.want)
			case c.want > 0 && set != c.want:
				t.Errorf("the runtime's limit is %d, want %d", set, c.want)
			case c.want <= 0 && set != math.MaxInt64:
				t.Errorf("the runtime's limit became %d; it should have been left alone", set)
			}
			if warned := strings.Contains(logs.String(), "level=WARN"); warned != c.warns {
				t.Errorf("warned %v, want %v: %s", warned, c.warns, logs.String())
			}
			if c.want > 0 && !strings.Contains(logs.String(), "gomemlimit_bytes=") {
				t.Errorf("the limit was not logged: %s", logs.String())
			}
		})
	}
}

// TestServePacesItsCollectorWithinAMemoryLimit: serve runs the collector at GOGC 400, but only
// under a soft memory limit: its container's, the environment's, or 90 % of the machine's memory,
// which it sets. Without one (AUTOMEMLIMIT=off outside a container, the machine's memory
// unknown, a container limit that could not be read) and with GOGC in the environment the
// runtime's pacing stays. Not parallel: the runtime's pacing is the process's.
func TestServePacesItsCollectorWithinAMemoryLimit(t *testing.T) {
	beforeLimit, beforeGC := debug.SetMemoryLimit(-1), debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetMemoryLimit(beforeLimit); debug.SetGCPercent(beforeGC) })
	const container, machine = 900 << 20, 8 << 30
	unknown := func() (uint64, error) { return 0, errors.New("/proc/meminfo: permission denied") }
	for _, c := range []struct {
		name      string
		env       map[string]string
		container int64 // what limitMemoryToContainer returned (and set when > 0)
		system    memlimit.Provider
		paced     bool  // GOGC 400 afterwards, else 100
		wantLimit int64 // the soft limit afterwards
	}{
		{"in a container", nil, container, memlimit.Limit(machine), true, container},
		{"outside a container", nil, 0, memlimit.Limit(machine), true, machine * 9 / 10},
		{"AUTOMEMLIMIT's ratio outside a container", map[string]string{"AUTOMEMLIMIT": "0.5"}, 0, memlimit.Limit(machine), true, machine / 2},
		{"GOMEMLIMIT of the environment", map[string]string{"GOMEMLIMIT": "300MiB"}, 0, memlimit.Limit(machine), true, 300 << 20},
		{"AUTOMEMLIMIT=off outside a container", map[string]string{"AUTOMEMLIMIT": "off"}, 0, memlimit.Limit(machine), false, math.MaxInt64},
		{"the machine's memory unknown", nil, 0, unknown, false, math.MaxInt64},
		{"a container limit that could not be read", nil, -1, memlimit.Limit(machine), false, math.MaxInt64},
		{"GOGC of the environment", map[string]string{"GOGC": "150"}, container, memlimit.Limit(machine), false, container},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			// What the runtime holds when paceServeGC runs: GOMEMLIMIT read at start, or the
			// container's limit just set, or none.
			limit := int64(math.MaxInt64)
			switch {
			case c.env["GOMEMLIMIT"] != "":
				limit = 300 << 20
			case c.container > 0:
				limit = c.container
			}
			debug.SetMemoryLimit(limit)
			debug.SetGCPercent(100)
			var logs bytes.Buffer
			set := paceServeGC(c.container, c.system, slog.New(slog.NewTextHandler(&logs, nil)))
			gotGC, gotLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
			wantGC := 100
			if c.paced {
				wantGC = serveGCPercent
			}
			if gotGC != wantGC || gotLimit != c.wantLimit {
				t.Errorf("GOGC %d and limit %d, want %d and %d", gotGC, gotLimit, wantGC, c.wantLimit)
			}
			if (set != 0) != c.paced || c.paced != strings.Contains(logs.String(), "gogc=400") {
				t.Errorf("returned %d and logged %q; paced: %v", set, logs.String(), c.paced)
			}
		})
	}
}
