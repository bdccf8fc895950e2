package proc

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// runs reports whether process pid runs and, when start is known, is the process that
// started then (not a later one that got the same PID).
func runs(pid int, start string) bool {
	now := startOf(pid)
	if now == "" {
		_, err := os.Stat("/proc/" + strconv.Itoa(pid))
		return !errors.Is(err, fs.ErrNotExist) // unreadable but present: assume it runs
	}
	return start == "" || start == now
}

// startOf is the start time of process pid in clock ticks since boot (field 22 of
// /proc/<pid>/stat), or "" when unknown.
func startOf(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold spaces: count from after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return ""
	}
	return fields[19] // fields[0] is field 3 (state), so field 22 is fields[19]
}
