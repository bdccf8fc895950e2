// Command portside-argocd is the companion of `portside serve` that talks to Argo CD and runs the
// Kubernetes Jobs pipeline provider: the server starts it as a go-plugin plugin when Argo CD
// instances or the Kubernetes Jobs provider are configured, hands it the instances
// over the plugin connection and calls it over net/rpc (see package rollouts/connector for why it
// is apart). It is not meant to be run by hand; it ends when the server stops it or is gone.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-plugin"

	"github.com/portside-dev/portside/pipelines/kubejobs"
	kjplugin "github.com/portside-dev/portside/pipelines/kubejobs/plugin"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/rollouts/argocd"
	"github.com/portside-dev/portside/rollouts/connector"
	"github.com/portside-dev/portside/tracing"
)

// version is set by the build (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	if len(os.Args) > 1 {
		if os.Args[1] == "version" || os.Args[1] == "--version" {
			fmt.Println(connector.BinaryName, version)
			return
		}
		fmt.Fprintf(os.Stderr, "%s takes no arguments: portside serve starts it when argocd-instances or kubernetes-jobs-* is set\n", connector.BinaryName)
		os.Exit(2)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("process", connector.BinaryName)
	// Ctrl-C in a terminal, and systemd stopping a unit, signal every process of the group: the
	// server shuts down in order and then stops this process. (A server killed outright closes
	// the connection, which ends this one too.)
	signal.Ignore(os.Interrupt, syscall.SIGTERM)
	// The Kubernetes Jobs pipeline provider is the companion's second plugin: it needs client-go,
	// which only this binary links. Its engine starts when portside sends its configuration.
	jobs := kjplugin.Serving(func(cfg kjplugin.Config) (kjplugin.Engine, error) {
		r, err := kubejobs.New(kubejobs.Options{Config: cfg, Logger: log.With("plugin", kjplugin.Name)})
		if err != nil {
			return nil, err
		}
		return r, nil
	})
	err := connector.Serve(log, func(inst connector.Instance) (rollouts.Source, error) {
		return argocd.New(argocd.Options{Name: inst.Name, Addr: inst.Addr, Token: inst.Token,
			PlainText: inst.PlainText, Insecure: inst.Insecure, GRPCWeb: inst.GRPCWeb})
	}, plugin.PluginSet{kjplugin.Name: jobs}, func(ts connector.TraceSettings) (func(context.Context) error, error) {
		// portside sends its tracing settings: this process's spans (its calls, and Argo CD's
		// gRPC client's, whose interceptors use the global provider) join portside's traces.
		t, err := tracing.New(tracing.Options{Endpoint: ts.Endpoint, SampleRatio: ts.SampleRatio,
			ServiceName: ts.ServiceName, ServiceVersion: ts.ServiceVersion, Logger: log})
		if err != nil {
			return nil, err
		}
		t.SetGlobal()
		return t.Shutdown, nil
	})
	if err != nil {
		log.Error(connector.BinaryName+" stopped", "error", err)
		os.Exit(1)
	}
}
