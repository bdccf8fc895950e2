package main

import (
	"context"
	"io"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/rollouts/connector"
)

// rollouts builds the rollouts service over the configured Argo CD instances, which it reaches
// through the portside-argocd companion (started here, stopped by the returned closer). The
// companion also serves the extensions (the Kubernetes Jobs pipeline provider), so it starts when
// either is configured. Every instance needs a token; a missing one, or a missing companion, stops
// the start with a message that names the setting.
func (a *app) rollouts(ctx context.Context, cat *catalog.Service, extensions []connector.Extension) (*rollouts.Service, io.Closer, error) {
	var sources []rollouts.Source
	var companion io.Closer = io.NopCloser(nil)
	if len(a.cfg.ArgoCDInstances) > 0 || len(extensions) > 0 {
		instances := make([]connector.Instance, 0, len(a.cfg.ArgoCDInstances))
		for _, inst := range a.cfg.ArgoCDInstances {
			token, err := a.cfg.ArgoCDToken(inst.Name)
			if err != nil {
				return nil, nil, err
			}
			instances = append(instances, connector.Instance{Name: inst.Name, Addr: inst.Addr, Token: token,
				PlainText: inst.PlainText, Insecure: inst.Insecure, GRPCWeb: inst.GRPCWeb})
		}
		path, err := connector.Locate(a.cfg.ArgoCDConnector)
		if err != nil {
			return nil, nil, err
		}
		p, err := connector.Start(ctx, connector.Options{Path: path, Instances: instances, Logger: a.log, Extensions: extensions,
			Tracing: a.traceSettings()})
		if err != nil {
			return nil, nil, err
		}
		sources, companion = p.Sources(), p
	}
	return rollouts.NewService(a.store, sources, rollouts.Options{Catalog: cat, Audit: a.auditLog(), Bus: a.bus,
		Tracker: rollouts.TrackerOptions{ResyncInterval: a.cfg.ArgoCDResyncInterval, Logger: a.log}}), companion, nil
}
