// Package proc names a process so that another process on the same host can tell whether it
// still runs: its host (with its PID namespace), its PID, and when it started (a PID is reused by
// later processes). Leases on catalog locations and the local pipeline provider's runs name their
// holder this way, so that a holder that died is noticed at once rather than when a lease lapses.
package proc

import (
	"os"
	"strconv"
	"strings"
)

// Identity names a process.
type Identity struct {
	Host  string // the hostname plus the PID namespace (hostKey)
	PID   int
	Start string // the process's start time in clock ticks since boot; "" where unknown
}

// self is the identity of the running process.
var self = Identity{Host: hostKey(), PID: os.Getpid(), Start: startOf(os.Getpid())}

// Self is the identity of the running process.
func Self() Identity { return self }

// String is "<host>/<pid>/<start>": no part holds a slash.
func (id Identity) String() string {
	return id.Host + "/" + strconv.Itoa(id.PID) + "/" + id.Start
}

// Parse reads an Identity written by String, or says it is not one.
func Parse(s string) (Identity, bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return Identity{}, false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 {
		return Identity{}, false
	}
	return Identity{Host: parts[0], PID: pid, Start: parts[2]}, true
}

// Gone reports whether id is a process on this host, other than this one, that no longer runs:
// one on another host (or in another PID namespace) is never known to be gone. A process with
// this one's PID that started at another time is an earlier one, gone (a container's PID 1
// restarted in its namespace).
func (id Identity) Gone() bool {
	switch {
	case id.Host != self.Host:
		return false
	case id.PID == self.PID:
		return id.Start != "" && self.Start != "" && id.Start != self.Start
	}
	return !runs(id.PID, id.Start)
}

// hostKey names the host and PID namespace: processes with the same key see each other's PIDs
// (two containers may share a hostname, never a namespace and a hostname with the same PIDs).
func hostKey() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "unknown"
	}
	if ns, err := os.Readlink("/proc/self/ns/pid"); err == nil {
		h += "~" + strings.Trim(strings.TrimPrefix(ns, "pid:"), "[]")
	}
	return strings.ReplaceAll(h, "/", "_")
}

// Of is the identity of process pid on this host, as it runs now.
func Of(pid int) Identity { return Identity{Host: self.Host, PID: pid, Start: startOf(pid)} }
