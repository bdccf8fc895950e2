package main

import (
	"time"

	"github.com/portside-dev/portside/server"
	"github.com/portside-dev/portside/slack"
)

// slackCommands is the Slack app's /slack/commands, or nil when no signing secret is set (the
// route is then absent: nothing Slack sends could be verified).
func (a *app) slackCommands(w *wiring) (*server.SlackCommands, error) {
	secret, token, err := a.cfg.SlackCredentials()
	if err != nil || secret == "" {
		return nil, err
	}
	bot := slack.New(slack.Options{SigningSecret: []byte(secret), BotToken: token, APIURL: a.cfg.SlackAPIURL,
		ResponseURLPrefix: a.cfg.SlackResponseURLPrefix, PortalURL: a.cfg.PublicURL, Users: w.identity, Pipelines: w.pipelines, Deploys: w.deploys,
		Components: w.catalog, DefaultChannel: a.cfg.SlackDefaultChannel, Store: a.store,
		Logger: a.log, HTTPClient: a.tracing.Client(10 * time.Second)})
	bot.Follow() // new deploy requests, from any client, posted to their component's channel
	w.closers = append(w.closers, bot.Close)
	return &server.SlackCommands{Bot: bot, Audit: a.auditLog(), Count: a.metrics.SlackRequest}, nil
}
