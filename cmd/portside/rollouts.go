package main

import (
	"context"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/rollouts/argocd"
)

// rollouts builds the rollouts service over the configured Argo CD instances. Every instance needs
// a token; a missing one stops the start with a message that names the instance and the settings.
func (a *app) rollouts(cat *catalog.Service) (*rollouts.Service, error) {
	var sources []rollouts.Source
	for _, inst := range a.cfg.ArgoCDInstances {
		token, err := a.cfg.ArgoCDToken(inst.Name)
		if err != nil {
			return nil, err
		}
		c, err := argocd.New(argocd.Options{Name: inst.Name, Addr: inst.Addr, Token: token,
			PlainText: inst.PlainText, Insecure: inst.Insecure, GRPCWeb: inst.GRPCWeb})
		if err != nil {
			return nil, err
		}
		sources = append(sources, c)
	}
	components := func(ctx context.Context, ref string) (map[string]string, error) {
		r, err := catalog.ParseRefInput("components", ref, "component")
		if err != nil {
			return nil, err
		}
		e, err := cat.Entity(ctx, r)
		if err != nil {
			return nil, err
		}
		return e.Metadata.Annotations, nil
	}
	return rollouts.NewService(a.store, sources, components, rollouts.TrackerOptions{
		ResyncInterval: a.cfg.ArgoCDResyncInterval, Logger: a.log}), nil
}
