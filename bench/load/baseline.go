package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/portside-dev/portside/bench/benchcat"

	"github.com/portside-dev/portside/bench/baseline"
)

// The bare net/http limit: for every operation, the driver runs wrk, with the same script, bodies
// and connections, against a tiny net/http server that answers each body with the answer
// Portside gave it (recorded by the check before the load). Nothing can answer the same bytes
// faster through Go's HTTP server on this machine, so Portside's throughput over this limit is
// what its own work costs. The server is this binary, started again with baselineEnv naming the
// recorded answers, pinned like Portside's server.

const (
	baselineEnv     = "PORTSIDE_BENCH_BASELINE"
	baselineAddrEnv = "PORTSIDE_BENCH_BASELINE_ADDR"
)

// recorded is one request body and the answer it gets.
type recorded struct {
	Body   string `json:"body"`
	Answer string `json:"answer"`
}

// serveBaseline answers the recorded bodies until it is killed; it returns an exit code.
func serveBaseline(file, addr string) int {
	data, err := os.ReadFile(file)
	var list []recorded
	if err == nil {
		err = json.Unmarshal(data, &list)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "baseline: %s: %v\n", file, err)
		return 1
	}
	answers := make(baseline.Answers, len(list))
	for _, r := range list {
		answers.Add([]byte(r.Body), []byte(r.Answer))
	}
	h := baseline.Handler(answers)
	if err := http.ListenAndServe(addr, h); err != nil {
		fmt.Fprintf(os.Stderr, "baseline: %v\n", err)
		return 1
	}
	return 0
}

// baselineLoad measures the net/http limit for op's recorded answers.
func (d *driver) baselineLoad(ctx context.Context, op benchcat.Operation, answers [][]byte, tag string) (*LoadResult, error) {
	bodies := d.bodies[op.Name]
	if len(answers) != len(bodies) {
		return nil, errors.New("not every body has a recorded answer")
	}
	list := make([]recorded, len(bodies))
	for i := range bodies {
		list[i] = recorded{Body: string(bodies[i]), Answer: string(answers[i])}
	}
	data, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(d.out, "bodies", op.Name+"-answers.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{self}
	if d.cfg.pin {
		args = append([]string{"taskset", "-c", "0"}, args...)
	}
	cmd := d.sup.command(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), baselineEnv+"="+file, baselineAddrEnv+"="+addr)
	logPath := filepath.Join(d.logs, "baseline-"+tag+"-"+op.Name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := d.sup.start(cmd); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- d.sup.wait(cmd) }()
	defer func() {
		_ = killGroup(cmd, syscall.SIGKILL)
		<-done
	}()
	u := "http://" + addr + "/graphql"
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, got, err := d.post(ctx, u, bodies[0])
		if err == nil && status == http.StatusOK {
			if !bytes.Equal(got, answers[0]) {
				return nil, errors.New("the baseline server answered other bytes than recorded")
			}
			break
		}
		var opErr *net.OpError
		if err != nil && !errors.As(err, &opErr) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the baseline server did not answer within 10 s (%v, status %d); see %s", err, status, logPath)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case e := <-done:
			done <- e
			return nil, fmt.Errorf("the baseline server exited (%v); see %s", e, logPath)
		case <-time.After(5 * time.Millisecond):
		}
	}
	l, err := runWrk(ctx, d.sup, d.wrk, d.cfg.pin, d.script, u, d.token, d.bodyFiles[op.Name], d.cfg.duration, d.cfg.concurrency, d.cfg.threads,
		filepath.Join(d.logs, "wrk-"+tag+"-"+op.Name+"-nethttp.txt"))
	if err != nil {
		return nil, err
	}
	l.Operation = loadKey(op, "net/http")
	return l, nil
}

// loadOperations are the operations the driver measures, in report order.
func loadOperations() []benchcat.Operation {
	return slices.Concat(benchcat.Operations(), benchcat.BackstageOperations(), benchcat.CatalogOperations())
}

// loadKey names one measurement of op in RunResult.Load: the default server under the operation's
// name, the others with their mode after it.
func loadKey(op benchcat.Operation, mode string) string {
	switch mode {
	case "on":
		return op.Name
	case "off":
		return op.Name + " (response cache off)"
	}
	return op.Name + " (" + mode + ")"
}

// loadKeys are every key op may be measured under.
func loadKeys(op benchcat.Operation) []string {
	return []string{loadKey(op, "on"), loadKey(op, "off"), loadKey(op, "net/http")}
}

func avgLen(list [][]byte) int {
	if len(list) == 0 {
		return 0
	}
	n := 0
	for _, b := range list {
		n += len(b)
	}
	return n / len(list)
}
