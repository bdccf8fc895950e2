//go:build race

package graph

// raceEnabled: the race detector makes sync.Pool drop a share of what is put back on purpose, so
// allocation counts that rely on reuse do not hold under it.
const raceEnabled = true
