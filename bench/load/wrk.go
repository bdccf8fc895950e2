package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

//go:embed wrk.lua
var wrkScript []byte

// ensureWrk finds wrk, installing Debian's package when it is missing (the driver says so first).
func ensureWrk(ctx context.Context, sup *supervisor) (string, error) {
	if p, err := exec.LookPath("wrk"); err == nil {
		return p, nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", errors.New("wrk is not installed and there is no apt-get to install it with; install wrk (https://github.com/wg/wrk) and run again")
	}
	args := []string{"apt-get", "install", "-y", "wrk"}
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("sudo"); err != nil {
			return "", errors.New("wrk is not installed; install it (sudo apt-get install -y wrk) and run again")
		}
		args = append([]string{"sudo", "-n"}, args...)
	}
	install := func() error {
		fmt.Fprintf(os.Stderr, "bench: wrk not found; installing it: %s\n", strings.Join(args, " "))
		cmd := sup.command(ctx, args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return sup.run(cmd)
	}
	if err := install(); err != nil {
		// The package lists may be missing or stale: update them once and try again.
		update := append(args[:len(args)-3:len(args)-3], "update")
		fmt.Fprintf(os.Stderr, "bench: %v; running %s first\n", err, strings.Join(update, " "))
		cmd := sup.command(ctx, update[0], update[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := sup.run(cmd); err != nil {
			return "", fmt.Errorf("apt-get update: %w", err)
		}
		if err := install(); err != nil {
			return "", fmt.Errorf("install wrk: %w", err)
		}
	}
	return exec.LookPath("wrk")
}

// wrkVersion is wrk's first line of -v output.
func wrkVersion(path string) string {
	out, _ := exec.Command(path, "-v").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	line, _, _ = strings.Cut(line, " Copyright")
	return strings.TrimSpace(line)
}

// LoadResult is one wrk run against one operation.
type LoadResult struct {
	Operation    string  `json:"operation"`
	Duration     string  `json:"duration"`
	Concurrency  int     `json:"concurrency"`
	Threads      int     `json:"threads"`
	RequestsPerS float64 `json:"requestsPerSecond"`
	P50ms        float64 `json:"p50Ms"`
	P75ms        float64 `json:"p75Ms"`
	P90ms        float64 `json:"p90Ms"`
	P99ms        float64 `json:"p99Ms"`
	Requests     int64   `json:"requests"`
	// Responses, Non2xx and GraphQLErrors are counted by wrk.lua.
	Responses     int64 `json:"responses"`
	Non2xx        int64 `json:"non2xx"`
	GraphQLErrors int64 `json:"graphqlErrors"`
	// SocketErrors are wrk's connect, read, write and timeout errors.
	SocketErrors int64 `json:"socketErrors"`
	// CheckFailures are bodies that failed the check before the run (non-200, errors, null entity).
	CheckFailures int `json:"checkFailures"`
	// EmptyResults are bodies whose page came back empty (a warning, not an error).
	EmptyResults int    `json:"emptyResults"`
	Bodies       int    `json:"bodies"`
	Output       string `json:"output"`
}

// Invalid says why the run cannot be trusted, or "".
func (r *LoadResult) Invalid() string {
	var why []string
	if r.Non2xx > 0 {
		why = append(why, fmt.Sprintf("%d non-2xx responses", r.Non2xx))
	}
	if r.GraphQLErrors > 0 {
		why = append(why, fmt.Sprintf("%d responses with GraphQL errors", r.GraphQLErrors))
	}
	if r.SocketErrors > 0 {
		why = append(why, fmt.Sprintf("%d socket errors", r.SocketErrors))
	}
	if r.CheckFailures > 0 {
		why = append(why, fmt.Sprintf("%d bodies failed the pre-run check", r.CheckFailures))
	}
	if r.Responses == 0 {
		why = append(why, "no responses counted by wrk.lua")
	}
	return strings.Join(why, ", ")
}

// runWrk runs wrk against url with the bodies in bodiesFile and parses its report.
// token authenticates every request (an API token, as "Authorization: Bearer").
func runWrk(ctx context.Context, sup *supervisor, wrk string, pin bool, script, url, token, bodiesFile string, d time.Duration, conc, threads int, logPath string) (*LoadResult, error) {
	args := []string{
		"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conc), "-d", formatWrkDuration(d),
		"--latency", "--timeout", "5s", "-H", "Authorization: Bearer " + token, "-s", script, url, "--", bodiesFile, strconv.Itoa(threads),
	}
	cmd := sup.command(ctx, wrk, args...)
	if pin {
		cmd = sup.command(ctx, "taskset", append([]string{"-c", "1-" + strconv.Itoa(runtime.NumCPU()-1), wrk}, args...)...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := sup.run(cmd)
	shown := strings.ReplaceAll(strings.Join(args, " "), token, "pst_…") // tokens stay out of logs
	_ = os.WriteFile(logPath, append([]byte("$ wrk "+shown+"\n"), out.Bytes()...), 0o644)
	if err != nil {
		return nil, fmt.Errorf("wrk: %v\n%s", err, out.String())
	}
	r, err := parseWrk(out.String())
	if err != nil {
		return nil, fmt.Errorf("%v (output in %s)", err, logPath)
	}
	r.Duration, r.Concurrency, r.Threads = d.String(), conc, threads
	return r, nil
}

func formatWrkDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms" // wrk rounds to seconds
}

var (
	reRPS      = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	rePct      = regexp.MustCompile(`(?m)^\s+(50|75|90|99)%\s+([0-9.]+)(us|ms|s|m|h)\s*$`)
	reRequests = regexp.MustCompile(`(?m)^\s+(\d+) requests in `)
	reSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	reBench    = regexp.MustCompile(`portside-bench: responses=(\d+) non2xx=(\d+) graphql_errors=(\d+) bodies=(\d+)`)
)

// parseWrk reads wrk's --latency report and wrk.lua's closing line.
func parseWrk(out string) (*LoadResult, error) {
	r := &LoadResult{Output: out}
	m := reRPS.FindStringSubmatch(out)
	if m == nil {
		return nil, errors.New("wrk output has no Requests/sec line")
	}
	r.RequestsPerS, _ = strconv.ParseFloat(m[1], 64)
	found := 0
	for _, m := range rePct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		ms := v * map[string]float64{"us": 0.001, "ms": 1, "s": 1000, "m": 60000, "h": 3600000}[m[3]]
		switch m[1] {
		case "50":
			r.P50ms = ms
		case "75":
			r.P75ms = ms
		case "90":
			r.P90ms = ms
		case "99":
			r.P99ms = ms
		}
		found++
	}
	if found < 4 {
		return nil, errors.New("wrk output has no latency distribution (run with --latency)")
	}
	if m := reRequests.FindStringSubmatch(out); m != nil {
		r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := reSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.SocketErrors += n
		}
	}
	m = reBench.FindStringSubmatch(out)
	if m == nil {
		return nil, errors.New("wrk output has no portside-bench line: wrk.lua's done() did not run")
	}
	r.Responses, _ = strconv.ParseInt(m[1], 10, 64)
	r.Non2xx, _ = strconv.ParseInt(m[2], 10, 64)
	r.GraphQLErrors, _ = strconv.ParseInt(m[3], 10, 64)
	b, _ := strconv.Atoi(m[4])
	r.Bodies = b
	return r, nil
}
