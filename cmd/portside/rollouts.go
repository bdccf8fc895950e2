package main

import (
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
	return rollouts.NewService(a.store, sources, rollouts.Options{Catalog: cat, Audit: a.auditLog(),
		Tracker: rollouts.TrackerOptions{ResyncInterval: a.cfg.ArgoCDResyncInterval, Logger: a.log}}), nil
}
