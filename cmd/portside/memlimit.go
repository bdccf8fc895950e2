package main

import (
	"errors"
	"log/slog"
	"math"

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
// the environment wins, and AUTOMEMLIMIT sets another ratio (0 to 1) or, "off", none.
func limitMemoryToContainer(provider memlimit.Provider, log *slog.Logger) int64 {
	limit, err := memlimit.Set(memlimit.WithProvider(provider), memlimit.WithRatio(containerMemoryRatio))
	switch {
	case errors.Is(err, memlimit.ErrCgroupsNotSupported):
		return 0 // not Linux: no container to read a limit from
	case err != nil:
		log.Warn("the container's memory limit was not applied to the Go runtime; set GOMEMLIMIT", "error", err)
		return 0
	case limit <= 0 || limit == math.MaxInt64:
		return 0
	}
	log.Info("memory limit from the container", "gomemlimit_bytes", limit, "ratio", containerMemoryRatio)
	return limit
}
