package main

import (
	"errors"
	"log/slog"
	"math"
	"os"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// containerMemoryRatio is the share of its container's memory limit serve lets the Go heap grow
// to before the collector runs as often as it must: the rest is the runtime's own memory, the
// goroutine stacks and what the kernel counts against the container besides.
const containerMemoryRatio = 0.9

// limitMemoryToContainer sets serve's soft memory limit (the runtime's GOMEMLIMIT) to
// containerMemoryRatio of the memory limit of the container it runs in, as provider reports it
// (memlimit.FromCgroup: the limit Kubernetes sets from the chart's resources.limits.memory), and
// returns it; 0 when it set none. The collector's default pacing lets the heap reach twice its
// live size, which under a burst (a large location's refresh beside a full response cache) can
// pass the container's limit and have the kernel kill the process, where a soft limit makes the
// collector work harder first. Outside a container with a limit nothing changes; GOMEMLIMIT in
// the environment wins, and AUTOMEMLIMIT sets another ratio (0 to 1) or, "off", none. -1 when
// the limit could not be read (or AUTOMEMLIMIT makes no sense), which it logs.
func limitMemoryToContainer(provider memlimit.Provider, log *slog.Logger) int64 {
	limit, err := memlimit.Set(memlimit.WithProvider(provider), memlimit.WithRatio(containerMemoryRatio))
	switch {
	case errors.Is(err, memlimit.ErrCgroupsNotSupported):
		return 0 // not Linux: no container to read a limit from
	case err != nil:
		log.Warn("the container's memory limit was not applied to the Go runtime; set GOMEMLIMIT", "error", err)
		return -1
	case limit <= 0 || limit == math.MaxInt64:
		return 0
	}
	log.Info("memory limit from the container", "gomemlimit_bytes", limit, "ratio", containerMemoryRatio)
	return limit
}

// serveGCPercent is the collector's pacing in serve (GOGC): the heap may grow to five times what
// is live before the collector runs. serve's live heap is small next to what its requests
// allocate and drop (a million-entity catalog with every cache off: about 9 MB live, and a
// request's rows, GraphQL values and JSON gone as soon as it is answered), so at the runtime's
// GOGC 100 the collector ran several times a second under load and took about a quarter of the
// process's CPU; at 400, uncached requests answer 10-25 % more per second (README, performance).
const serveGCPercent = 400

// paceServeGC sets serve's collector to serveGCPercent, but only under a soft memory limit, so
// that a large live heap (full caches) is still collected before memory runs out: the
// container's (containerLimit, from limitMemoryToContainer), GOMEMLIMIT's, or else
// containerMemoryRatio of the machine's memory (system, memlimit.FromSystem), which it sets.
// Without one (AUTOMEMLIMIT=off outside a container, the machine's memory unknown, a container
// whose limit could not be read: containerLimit < 0) the runtime's pacing stays, as it does
// when GOGC is in the environment. It returns the GOGC it set (0: none).
func paceServeGC(containerLimit int64, system memlimit.Provider, log *slog.Logger) int {
	if os.Getenv("GOGC") != "" || containerLimit < 0 {
		return 0
	}
	if containerLimit == 0 && os.Getenv("GOMEMLIMIT") == "" {
		limit, err := memlimit.Set(memlimit.WithProvider(system), memlimit.WithRatio(containerMemoryRatio))
		if err != nil || limit <= 0 || limit == math.MaxInt64 {
			return 0
		}
	}
	debug.SetGCPercent(serveGCPercent)
	log.Info("garbage collector paced", "gogc", serveGCPercent, "gomemlimit_bytes", debug.SetMemoryLimit(-1))
	return serveGCPercent
}
