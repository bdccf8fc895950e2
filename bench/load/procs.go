package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// supervisor starts every child process of the driver and makes sure none outlives it: each child
// runs in a process group of its own (so the go tool's compilers, wrk's threads and the server go
// together), is killed when the context ends (Ctrl-C, SIGTERM, a failure upstream), receives SIGKILL
// from the kernel if the driver dies, and killAll ends whatever is left when the driver returns.
type supervisor struct {
	mu       sync.Mutex
	running  map[*exec.Cmd]struct{}
	cleanups []cleanup
}

type cleanup struct {
	name string
	fn   func() error
}

func newSupervisor() *supervisor {
	return &supervisor{running: map[*exec.Cmd]struct{}{}}
}

// command prepares a child process bound to ctx.
func (s *supervisor) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return killGroup(cmd, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// start starts cmd and tracks it until wait.
func (s *supervisor) start(cmd *exec.Cmd) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	s.running[cmd] = struct{}{}
	return nil
}

// wait waits for cmd and stops tracking it.
func (s *supervisor) wait(cmd *exec.Cmd) error {
	err := cmd.Wait()
	s.mu.Lock()
	delete(s.running, cmd)
	s.mu.Unlock()
	return err
}

// run starts cmd and waits for it.
func (s *supervisor) run(cmd *exec.Cmd) error {
	if err := s.start(cmd); err != nil {
		return err
	}
	return s.wait(cmd)
}

// onExit registers something to undo when the driver ends (a database to drop), run in reverse order
// after every child is dead. The returned function runs it now instead.
func (s *supervisor) onExit(name string, fn func() error) (runNow func() error) {
	s.mu.Lock()
	s.cleanups = append(s.cleanups, cleanup{name, fn})
	idx := len(s.cleanups) - 1
	s.mu.Unlock()
	return func() error {
		s.mu.Lock()
		c := s.cleanups[idx]
		s.cleanups[idx].fn = nil
		s.mu.Unlock()
		if c.fn == nil {
			return nil
		}
		return c.fn()
	}
}

// killAll kills every child still running, then runs the pending cleanups.
func (s *supervisor) killAll() {
	s.mu.Lock()
	cmds := make([]*exec.Cmd, 0, len(s.running))
	for c := range s.running {
		cmds = append(cmds, c)
	}
	s.mu.Unlock()
	for _, c := range cmds {
		fmt.Fprintf(os.Stderr, "bench: killing %s (pid %d)\n", describeCmd(c), c.Process.Pid)
		_ = killGroup(c, syscall.SIGKILL)
		_ = s.wait(c)
	}
	s.mu.Lock()
	cleanups := s.cleanups
	s.cleanups = nil
	s.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		if c := cleanups[i]; c.fn != nil {
			if err := c.fn(); err != nil {
				fmt.Fprintf(os.Stderr, "bench: cleanup %s: %v\n", c.name, err)
			}
		}
	}
}

// killGroup signals the process group cmd leads (every child runs with Setpgid).
func killGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	err := syscall.Kill(-cmd.Process.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

func describeCmd(c *exec.Cmd) string {
	args := c.Args
	if len(args) > 4 {
		args = append(args[:4:4], "...")
	}
	return strings.Join(args, " ")
}

// exitCode is the process's exit status, or -1 when it was killed by a signal or never ran.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err == nil {
		return 0
	}
	return -1
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	const max = 8 << 10
	off := max64(0, st.Size()-max)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(buf), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// procCPU reads a process's user+system CPU time from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces: count fields after it.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	// After ")": field 3 (state) is f[0], so utime (14) is f[11] and stime (15) is f[12].
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	// USER_HZ is 100 on every Linux architecture Go supports (sysconf(_SC_CLK_TCK)).
	const hz = 100
	return time.Duration(utime+stime) * time.Second / hz, nil
}

// procHWM reads a process's peak resident set size (VmHWM) in bytes.
func procHWM(pid int) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
}

// procChildren returns the process IDs of pid's children (the server's portside-argocd).
func procChildren(pid int) []int {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var out []int
	for _, f := range tasks {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, field := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(field); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// procTreeCPU is procCPU of pid and of its children.
func procTreeCPU(pid int) (time.Duration, error) {
	total, err := procCPU(pid)
	if err != nil {
		return 0, err
	}
	for _, child := range procChildren(pid) {
		if c, err := procCPU(child); err == nil {
			total += c
		}
	}
	return total, nil
}
