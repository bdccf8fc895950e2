package runbooks

import (
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// BenchmarkRender100KBCriticalPath is what rendering the 100 KB runbooks would take on idle
// cores, one per piece (4 pieces): every step over the pieces runs piece after piece on one
// locked thread, timed by that thread's CPU clock, and counts for its longest piece; the rest
// (cutting, the definitions and heading IDs, joining) counts whole. Thread CPU time does not
// stretch with the machine's load as wall time does, so this shows what the pieces gain on a busy
// machine. It leaves out the collector's background workers (other threads), which the wall time
// on idle cores would also pay for in part: cpu-ns/op of the other benchmarks has them.
func BenchmarkRender100KBCriticalPath(b *testing.B) {
	for _, bench := range []struct {
		name string
		src  string
	}{{"dense", runbook100KB()}, {"prose", proseRunbook100KB()}} {
		for _, n := range []int{1, 2, 4} {
			b.Run(bench.name+"/pieces="+string(rune('0'+n)), func(b *testing.B) { benchCriticalPath(b, bench.src, n) })
		}
	}
}

func benchCriticalPath(b *testing.B, src string, n int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.SetBytes(int64(len(src)))
	var path, total, ops int64
	for b.Loop() {
		var steps, longest int64
		each := func(pieces []piece, f func(*piece)) {
			var most int64
			for i := range pieces {
				t0 := threadCPU()
				f(&pieces[i])
				d := threadCPU() - t0
				steps += d
				most = max(most, d)
			}
			longest += most
		}
		t0 := threadCPU()
		if _, err := renderPiecesWith(src, n, each, time.Time{}); err != nil {
			b.Fatal(err)
		}
		all := threadCPU() - t0
		path += all - steps + longest
		total += all
		ops++
	}
	b.ReportMetric(float64(path)/float64(ops), "path-cpu-ns/op")
	b.ReportMetric(float64(total)/float64(ops), "thread-cpu-ns/op")
}

// threadCPU is the CPU time of the calling thread, in nanoseconds.
func threadCPU() int64 {
	const clockThreadCPUTimeID = 3 // CLOCK_THREAD_CPUTIME_ID
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		panic(errno)
	}
	return ts.Nano()
}
