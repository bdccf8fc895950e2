package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/store"
)

// Pipelines is what /pipeline asks of the pipelines service (pipelines.Service has it).
type Pipelines interface {
	Trigger(ctx context.Context, in pipelines.TriggerInput) (pipelines.Run, error)
	Runs(ctx context.Context, f pipelines.Filter, first int, after string) (*pipelines.Page, error)
}

// Users finds the Portside user a confirmed e-mail address belongs to (auth.Service has it).
type Users interface {
	PrincipalByEmail(ctx context.Context, email string, client principal.Client) (*principal.Principal, error)
}

// Options configure a Bot.
type Options struct {
	// SigningSecret verifies every request (setting slack-signing-secret).
	SigningSecret []byte
	// BotToken calls Slack's Web API (users.info) as the app (setting slack-bot-token).
	BotToken string
	// APIURL is Slack's Web API root; "" is https://slack.com/api/ (tests give slacktest's).
	APIURL string
	// ResponseURLPrefix is where answers may be posted: a command's response_url must start with
	// it, so that no request, even one signed with a leaked secret, makes Portside post its
	// answers (or reach an internal address) elsewhere. "" is https://hooks.slack.com/.
	ResponseURLPrefix string
	// PortalURL is Portside's public URL, for links in answers.
	PortalURL string
	Users     Users
	Pipelines Pipelines
	// Deploys answers /deploy; nil turns /deploy off.
	Deploys Deploys
	// Components finds the channel of a component's requests (ChannelAnnotation); nil posts every
	// request to DefaultChannel.
	Components Components
	// Store keeps the messages deploy requests were posted as (and the Slack ↔ Portside links);
	// Follow needs it.
	Store *store.Store
	// DefaultChannel is where requests of a component without ChannelAnnotation are posted
	// (setting slack-default-channel); "" posts them nowhere.
	DefaultChannel string
	// HTTPClient carries Web API calls and answers; nil is a client with a 10 s timeout.
	HTTPClient *http.Client
	// Concurrency bounds the commands worked on at once; 0 is 16.
	Concurrency int
	// Queue bounds the commands (and clicks) acknowledged and waiting for a worker; 0 is 512. A
	// burst beyond it is told to try again rather than queued without end.
	Queue int
	// WorkTimeout bounds one command's work (Slack accepts answers for 30 minutes); 0 is 30 s.
	WorkTimeout time.Duration
	Logger      *slog.Logger
	Now         func() time.Time
}

// Bot answers Portside's slash commands.
type Bot struct {
	opts   Options
	api    *slackapi.Client
	http   *http.Client
	jobs   chan func(context.Context) // acknowledged work, for the workers
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	msgs messages // deploy request → its message in Slack, in the database

	mu        sync.Mutex
	emails    map[string]cachedEmail   // team/user → confirmed address, briefly
	profiles  map[string]cachedProfile // team/user → what users.info shows, for the link page, briefly
	following bool
}

type cachedEmail struct {
	email string
	until time.Time
}

// emailTTL is how long a Slack user's address is trusted without asking users.info again, and
// maxEmails bounds how many are kept.
const (
	emailTTL  = 10 * time.Minute
	maxEmails = 10000
)

// New returns a bot; Close stops its work.
func New(opts Options) *Bot {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.ResponseURLPrefix == "" {
		opts.ResponseURLPrefix = "https://hooks.slack.com/"
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.Queue <= 0 {
		opts.Queue = 512
	}
	if opts.WorkTimeout <= 0 {
		opts.WorkTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	apiOpts := []slackapi.Option{slackapi.OptionHTTPClient(opts.HTTPClient)}
	if opts.APIURL != "" {
		apiOpts = append(apiOpts, slackapi.OptionAPIURL(opts.APIURL))
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bot{opts: opts, api: slackapi.New(opts.BotToken, apiOpts...), http: opts.HTTPClient,
		jobs: make(chan func(context.Context), opts.Queue), ctx: ctx, cancel: cancel, emails: map[string]cachedEmail{}, profiles: map[string]cachedProfile{}, msgs: messages{st: opts.Store}}
	for range opts.Concurrency {
		b.wg.Add(1)
		go b.worker()
	}
	return b
}

// worker does acknowledged work, each piece within WorkTimeout, until Close.
func (b *Bot) worker() {
	defer b.wg.Done()
	for {
		select {
		case <-b.ctx.Done():
			return
		case job := <-b.jobs:
			ctx, cancel := context.WithTimeout(b.ctx, b.opts.WorkTimeout)
			job(ctx)
			cancel()
		}
	}
}

// enqueue hands acknowledged work to the workers, or reports that the queue is full.
func (b *Bot) enqueue(job func(ctx context.Context)) bool {
	select {
	case b.jobs <- job:
		return true
	default:
		return false
	}
}

// Close cancels the commands under way and waits for them.
func (b *Bot) Close() {
	b.cancel()
	b.wg.Wait()
}

// Verify checks a request's signature (see Verify) with the bot's secret and clock.
func (b *Bot) Verify(ctx context.Context, h http.Header, body []byte) (string, error) {
	now := b.opts.Now()
	if reason, err := Verify(b.opts.SigningSecret, h, body, now); err != nil {
		return reason, err
	}
	if b.opts.Store == nil {
		return "", nil
	}
	// Signed once by Slack, a request is taken once: the signature (over its timestamp and body)
	// is kept while its timestamp is within MaxSkew, and the same one again is a replay.
	// Kept as Verify read it: hex decodes either case, so the signature is kept in lower case
	// (an upper-cased copy of a captured request is the same request).
	fresh, err := b.msgs.firstSeen(ctx, strings.ToLower(h.Get(SignatureHeader)), now, now.Add(2*MaxSkew))
	switch {
	case err != nil:
		return ReasonReplayCheck, errs.Wrap(errs.Unavailable, err, "Slack requests cannot be checked for replays now; try again in a moment")
	case !fresh:
		return ReasonReplay, errs.E(errs.Unauthenticated, "the request was sent before (a replay): Slack signs each request once")
	}
	return "", nil
}

// Reply is an answer to Slack: the acknowledgement of a command, or a message to its response_url.
type Reply struct {
	ResponseType string `json:"response_type"` // ephemeral (only the caller sees it) or in_channel
	Text         string `json:"text"`
}

func ephemeral(format string, args ...any) Reply {
	return Reply{ResponseType: "ephemeral", Text: fmt.Sprintf(format, args...)}
}

// Command handles a verified slash command (the form Slack posts): it answers at once, well
// within Slack's 3 seconds, and does the work afterwards, posting the outcome to the command's
// response_url. A retry Slack sends (X-Slack-Retry-Num) is worked on again, harmlessly: a trigger's
// idempotency key is the command's trigger_id, so it returns the run the first attempt started, and
// a deploy request for the same component, version and environment returns the open one.
func (b *Bot) Command(form url.Values) Reply {
	var (
		ack  string
		work func(ctx context.Context, who caller) Reply
	)
	switch form.Get("command") {
	case "/pipeline":
		cmd, err := parsePipeline(form.Get("text"))
		if err != nil {
			return ephemeral("%s\n%s", errs.PublicMessage(err), pipelineHelp)
		}
		if cmd.verb == "help" {
			return ephemeral("%s", pipelineHelp)
		}
		ack = fmt.Sprintf("Looking up the runs of %s…", cmd.component)
		if cmd.verb == "run" {
			ack = fmt.Sprintf("Starting %s of %s…", cmd.pipeline, cmd.component)
		}
		work = func(ctx context.Context, who caller) Reply { return b.pipeline(ctx, who, cmd) }
	case "/deploy":
		if b.opts.Deploys == nil {
			return ephemeral("Deploy requests are not set up in this Portside.")
		}
		cmd, err := parseDeploy(form.Get("text"))
		if err != nil {
			return ephemeral("%s\n%s", errs.PublicMessage(err), deployHelp)
		}
		if cmd.verb == "help" {
			return ephemeral("%s", deployHelp)
		}
		if cmd.verb == "link" {
			ack = "Making you a link to Portside…"
			work = func(ctx context.Context, who caller) Reply { return b.linkURL(ctx, who) }
			break
		}
		if cmd.verb == "unlink" {
			ack = "Unlinking your Slack user…"
			work = func(ctx context.Context, who caller) Reply { return b.unlink(ctx, who) }
			break
		}
		ack = fmt.Sprintf("Looking up the deploy requests of %s…", cmd.component)
		if cmd.verb == "request" {
			ack = fmt.Sprintf("Asking for %s %s in %s…", cmd.component, cmd.version, cmd.environment)
		}
		work = func(ctx context.Context, who caller) Reply { return b.deploy(ctx, who, cmd) }
	default:
		return ephemeral("Portside does not answer %s: its commands are /pipeline and /deploy (try `/deploy help`).", form.Get("command"))
	}
	respond := form.Get("response_url")
	if !strings.HasPrefix(respond, b.opts.ResponseURLPrefix) {
		return ephemeral("Portside answers only through Slack's response URLs; this command's is not one.")
	}
	who := caller{team: form.Get("team_id"), user: form.Get("user_id"), trigger: form.Get("trigger_id")}
	if err := who.check("team_id", "user_id", "trigger_id"); err != nil {
		return ephemeral("%s", errs.PublicMessage(err))
	}
	if !b.enqueue(func(ctx context.Context) {
		reply := work(ctx, who)
		if err := b.post(ctx, respond, reply); err != nil {
			b.opts.Logger.WarnContext(ctx, "slack: the answer to a command could not be posted", "command", form.Get("command"), "error", err)
		}
	}) {
		return ephemeral("Portside is working on many Slack commands right now: try again in a moment.")
	}
	return ephemeral("%s", ack)
}

type caller struct{ team, user, trigger string }

// check refuses IDs no Slack workspace gives (team and user: letters and digits; a trigger: those,
// dots, dashes and underscores), naming the field: they are looked up and stored (the trigger in an
// idempotency key), and a NUL or a megabyte has no place there. Only the user is required: an
// org-wide app of an Enterprise Grid may be sent no team.
func (c caller) check(teamField, userField, triggerField string) error {
	for _, f := range []struct {
		name, value string
		punct       string
		required    bool
	}{{teamField, c.team, "", false}, {userField, c.user, "", true}, {triggerField, c.trigger, ".-_", false}} {
		if f.value == "" && !f.required {
			continue
		}
		if f.value == "" || len(f.value) > maxSlackID || strings.IndexFunc(f.value, func(r rune) bool {
			return !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || strings.ContainsRune(f.punct, r))
		}) >= 0 {
			return errs.InvalidField(f.name, "%q is not a Slack ID", clipText(strings.ToValidUTF8(f.value, "\uFFFD")))
		}
	}
	return nil
}

// maxSlackID bounds the IDs Slack sends (theirs are about 10–50 characters).
const maxSlackID = 128

// as is ctx with the Portside user the Slack user is.
func (b *Bot) as(ctx context.Context, who caller) (context.Context, error) {
	p, err := b.principal(ctx, who)
	if err != nil {
		return ctx, err
	}
	return principal.With(ctx, p), nil
}

// pipeline runs /pipeline as the Portside user the Slack user is.
func (b *Bot) pipeline(ctx context.Context, who caller, cmd pipelineCommand) Reply {
	ctx, err := b.as(ctx, who)
	if err != nil {
		return ephemeral("%s", errs.PublicMessage(err))
	}
	switch cmd.verb {
	case "run":
		key := ""
		if who.trigger != "" {
			key = "slack:" + who.trigger
		}
		run, err := b.opts.Pipelines.Trigger(ctx, pipelines.TriggerInput{Component: cmd.component, Pipeline: cmd.pipeline,
			Ref: cmd.ref, Parameters: cmd.params, IdempotencyKey: key})
		if err != nil {
			return ephemeral("Portside did not start %s of %s: %s", cmd.pipeline, cmd.component, errs.PublicMessage(err))
		}
		return Reply{ResponseType: "in_channel", Text: fmt.Sprintf("<@%s> started %s of %s on %s: run %d is %s. %s",
			who.user, run.Pipeline, run.Component, run.Ref, run.ID, run.Status, b.link(fmt.Sprintf("/pipelines/runs/%d", run.ID)))}
	default:
		page, err := b.opts.Pipelines.Runs(ctx, pipelines.Filter{Component: componentRef(cmd.component)}, 5, "")
		if err != nil {
			return ephemeral("Portside could not list the runs of %s: %s", cmd.component, errs.PublicMessage(err))
		}
		if len(page.Runs) == 0 {
			return ephemeral("%s has no pipeline runs yet.", cmd.component)
		}
		var lines []string
		for _, r := range page.Runs {
			lines = append(lines, fmt.Sprintf("• run %d: %s on %s, %s, by %s", r.ID, r.Pipeline, r.Ref, r.Status, r.TriggeredBy))
		}
		return ephemeral("Latest runs of %s:\n%s", cmd.component, strings.Join(lines, "\n"))
	}
}

// Links are the explicit links between Slack users and Portside users (auth.Service has them):
// when Users has them too, a linked Slack user is that Portside user, before any e-mail lookup,
// `/deploy link` hands out link URLs and `/deploy unlink` removes the link.
type Links interface {
	PrincipalBySlackUser(ctx context.Context, team, user string, client principal.Client) (*principal.Principal, bool, error)
	IssueSlackLinkToken(ctx context.Context, team, user string) (string, time.Time, error)
	// UnlinkSlackUser removes a link, for the Portside user it links to (the principal in ctx);
	// audited.
	UnlinkSlackUser(ctx context.Context, team, user string) error
}

// linkHint is what an unmapped person is told to do.
const linkHint = "or link your Slack user to Portside: type `/deploy link`"

// principal maps the Slack user to a Portside user: by the link the person made (Links), else by
// the e-mail address Slack has confirmed. A person found neither way is told how to link.
func (b *Bot) principal(ctx context.Context, who caller) (*principal.Principal, error) {
	links, linkable := b.opts.Users.(Links)
	if linkable {
		p, ok, err := links.PrincipalBySlackUser(ctx, who.team, who.user, principal.ClientSlack)
		if err != nil {
			return nil, err
		}
		if ok {
			return p, nil
		}
	}
	email, err := b.email(ctx, who)
	if err == nil {
		var p *principal.Principal
		if p, err = b.opts.Users.PrincipalByEmail(ctx, email, principal.ClientSlack); err == nil {
			return p, nil
		}
	}
	if linkable && errs.Is(err, errs.NotFound) {
		return nil, errs.Wrap(errs.NotFound, err, "%s; %s", errs.PublicMessage(err), linkHint)
	}
	return nil, err
}

// linkURL answers `/deploy link`: a one-time URL to the portal, only to the person, that links
// their Slack user to the Portside user who opens it signed in.
func (b *Bot) linkURL(ctx context.Context, who caller) Reply {
	links, ok := b.opts.Users.(Links)
	if !ok || b.opts.PortalURL == "" {
		return ephemeral("Linking Slack users is not set up in this Portside (it needs its public URL).")
	}
	token, exp, err := links.IssueSlackLinkToken(ctx, who.team, who.user)
	if err != nil {
		return ephemeral("Portside could not make you a link: %s", errs.PublicMessage(err))
	}
	u := strings.TrimSuffix(b.opts.PortalURL, "/") + "/slack/link?token=" + url.QueryEscape(token)
	return ephemeral("<%s|Open this link> signed in to Portside as yourself to link your Slack user to your Portside user. It works once, until %s; share it with nobody.",
		u, exp.UTC().Format("15:04 MST"))
}

// unlink answers `/deploy unlink`: the Slack user's link is removed, as the Portside user it links
// to (the one the signed request proves the person acts as; audited as them). A Slack user with
// no link is told so, and how Portside knows them without one.
func (b *Bot) unlink(ctx context.Context, who caller) Reply {
	links, ok := b.opts.Users.(Links)
	if !ok {
		return ephemeral("Linking Slack users is not set up in this Portside.")
	}
	p, linked, err := links.PrincipalBySlackUser(ctx, who.team, who.user, principal.ClientSlack)
	if err != nil {
		return ephemeral("Portside could not look up your link: %s", errs.PublicMessage(err))
	}
	if !linked {
		return ephemeral("Your Slack user is not linked to a Portside user: Portside knows you by the e-mail address Slack has confirmed, if any.")
	}
	if err := links.UnlinkSlackUser(principal.With(ctx, p), who.team, who.user); err != nil {
		return ephemeral("Portside could not unlink your Slack user: %s", errs.PublicMessage(err))
	}
	return ephemeral("Your Slack user is no longer linked to Portside user %s. Portside now knows you by the e-mail address Slack has confirmed, if any; type `/deploy link` to link again.", p.Actor())
}

func (b *Bot) email(ctx context.Context, who caller) (string, error) {
	key := who.team + "/" + who.user
	now := b.opts.Now()
	b.mu.Lock()
	c, ok := b.emails[key]
	b.mu.Unlock()
	if ok && now.Before(c.until) {
		return c.email, nil
	}
	u, err := b.api.GetUserInfoContext(ctx, who.user)
	if err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "Portside could not ask Slack who you are (users.info); try again later")
	}
	if u.Profile.Email == "" || !u.IsEmailConfirmed {
		return "", errs.E(errs.NotFound, "Slack shows no confirmed e-mail address for you (is the app missing the users:read.email scope?): Portside maps Slack users to its users by that address")
	}
	b.mu.Lock()
	if len(b.emails) >= maxEmails {
		for k := range b.emails { // drop one: a bound, not a policy
			delete(b.emails, k)
			break
		}
	}
	b.emails[key] = cachedEmail{email: u.Profile.Email, until: now.Add(emailTTL)}
	b.mu.Unlock()
	return u.Profile.Email, nil
}

func (b *Bot) link(path string) string {
	if b.opts.PortalURL == "" {
		return ""
	}
	return "<" + strings.TrimSuffix(b.opts.PortalURL, "/") + path + "|Open in Portside>"
}

// post sends a reply to a command's response_url.
func (b *Bot) post(ctx context.Context, respond string, r Reply) error {
	body, _ := json.Marshal(r)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, respond, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the response URL answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// componentRef is the canonical ref of a component named by name or ref.
func componentRef(s string) string {
	if strings.Contains(s, ":") {
		return s
	}
	if strings.Contains(s, "/") {
		return "component:" + s
	}
	return "component:default/" + s
}
