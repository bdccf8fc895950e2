package runbooks

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/sizedlru"
	"github.com/portside-dev/portside/internal/words"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/store"
)

// Catalog is what the runbooks domain reads from the catalog; catalog.Service implements it.
type Catalog interface {
	// EntitiesByRef returns the entities that exist among refs.
	EntitiesByRef(ctx context.Context, refs []backstage.Ref) (map[backstage.Ref]*backstage.Entity, error)
	// Owns reports whether p owns the entity, directly or through the group hierarchy.
	Owns(ctx context.Context, p *principal.Principal, ref string) (bool, error)
}

// Deployments is what the runbooks domain reads from the rollouts (dashboard templating);
// rollouts.Service implements it.
type Deployments interface {
	Deployments(ctx context.Context, annotations map[string]string) ([]rollouts.Deployment, error)
}

// Options wire the service.
type Options struct {
	Catalog Catalog
	// Deployments fill the Argo CD application, namespace and environment of dashboard
	// templates; nil leaves them empty.
	Deployments Deployments
	// Audit records every change; nil records nothing (tests of the domain alone).
	Audit *audit.Log
	// Check is the background link check; its zero value checks nothing (see CheckOptions).
	Check  CheckOptions
	Logger *slog.Logger
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// Service keeps runbooks, answers which runbooks and dashboards an entity has, and checks their
// links in the background.
type Service struct {
	recs    *records
	catalog Catalog
	deploys Deployments
	audit   *audit.Log
	log     *slog.Logger
	now     func() time.Time
	// rendered caches HTML by runbook version, bounded by bytes: rendering is the costly part of
	// reading one. renders lets one rendering of a version run at a time.
	rendered *sizedlru.Cache[versionKey, rendering]
	renders  singleflight.Group
	render   func(string) (string, error) // RenderMarkdown; the tests count its calls
	checker  *checker
}

type versionKey struct {
	id      int64
	version int
}

// NewService keeps runbooks in st.
func NewService(st *store.Store, opts Options) *Service {
	s := &Service{recs: &records{st: st}, catalog: opts.Catalog, deploys: opts.Deployments, audit: opts.Audit, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.rendered = sizedlru.New[versionKey, rendering](renderedBytes, 0)
	s.render = RenderMarkdown
	s.checker = newChecker(s.recs, opts.Check, s.log, s.now)
	return s
}

// audited runs fn as an audited action (or just runs it without an audit log).
func (s *Service) audited(ctx context.Context, e audit.Entry, fn func(ctx context.Context) error) error {
	if s.audit == nil {
		return fn(ctx)
	}
	return s.audit.Do(ctx, e, fn)
}

// entityRefs reads the refs a client typed (components and systems; the kind defaults to
// component), checks they exist and returns them canonical, deduplicated and sorted. A ref that
// cannot be read, or names another kind, is INVALID naming its input; one the catalog does not
// hold is NOT_FOUND naming it, as a task's link to a missing component is (catalog.EntityRef).
func (s *Service) entityRefs(ctx context.Context, field string, in []string) ([]string, error) {
	if len(in) > MaxLinks {
		return nil, errs.InvalidField(field, "names %d entities; at most %d", len(in), MaxLinks)
	}
	refs := make([]backstage.Ref, 0, len(in))
	for i, raw := range in {
		f := field + "[" + strconv.Itoa(i) + "]"
		if len(raw) > 512 {
			return nil, errs.InvalidField(f, "has %d bytes; an entity reference has at most 512", len(raw))
		}
		r, err := backstage.ParseRef(raw, backstage.KindComponent, backstage.DefaultNamespace)
		if err != nil {
			return nil, errs.InvalidField(f, "%s", strings.TrimPrefix(errs.PublicMessage(err), "entity reference "))
		}
		if r.Kind != "component" && r.Kind != "system" {
			// "of kind", not "a": "a api" would not read.
			return nil, errs.InvalidField(f, "%s is of kind %s; runbooks link to components and systems", r, r.Kind)
		}
		refs = append(refs, r)
	}
	found, err := s.catalog.EntitiesByRef(ctx, refs)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(refs))
	for i, r := range refs {
		if found[r] == nil {
			return nil, errs.NotFoundField(field+"["+strconv.Itoa(i)+"]", "no %s %s in the catalog", r.Kind, r)
		}
		out = append(out, r.String())
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// renameField names field to instead of from in an error about from (INVALID, NOT_FOUND).
func renameField(err error, from, to string) error {
	if errs.FieldOf(err) != from {
		return err
	}
	return &errs.Error{Code: errs.CodeOf(err), Field: to, Message: to + ": " + strings.TrimPrefix(errs.PublicMessage(err), from+": "), Err: err}
}

// ownsAny reports whether the caller is an admin or owns one of refs.
func (s *Service) ownsAny(ctx context.Context, p *principal.Principal, refs []string) (bool, error) {
	if p == nil {
		return false, nil
	}
	if p.Admin {
		return true, nil
	}
	for _, ref := range refs {
		owns, err := s.catalog.Owns(ctx, p, ref)
		if err != nil || owns {
			return owns, err
		}
	}
	return false, nil
}

// authorize checks that the caller may take action on something linked to refs: the owners of
// any of them and admins may. A runbook linked to nothing is the admins' alone.
func (s *Service) authorize(ctx context.Context, action policy.Action, name string, refs []string) error {
	p := principal.From(ctx)
	if err := policy.Gate(p, action); err != nil {
		return err
	}
	owns, err := s.ownsAny(ctx, p, refs)
	if err != nil {
		return err
	}
	return policy.Can(p, action, policy.Resource{Name: name, OwnedByCaller: owns})
}

// CreateInput is a new runbook.
type CreateInput struct {
	Title string
	Kind  Kind
	// Markdown is a MARKDOWN runbook's text; URL a LINK runbook's document.
	Markdown string
	URL      string
	// Links are the components and systems it is for (refs as a client types them); the caller
	// must own every one of them (admins may create runbooks for anything).
	Links   []string
	Message string
}

func checkContent(kind Kind, markdown, link string) error {
	switch kind {
	case Markdown:
		if link != "" {
			return errs.InvalidField("url", "is for LINK runbooks; a MARKDOWN runbook keeps its text in markdown")
		}
		return checkBody("markdown", markdown)
	case Link:
		if markdown != "" {
			return errs.InvalidField("markdown", "is for MARKDOWN runbooks; a LINK runbook points to its document with url")
		}
		return checkURL("url", link)
	default:
		return errs.InvalidField("kind", "%q is not a runbook kind; use MARKDOWN or LINK", clip(string(kind), 40))
	}
}

// Create records a new runbook (version 1) linked to the given entities, for their owners and
// admins; audited.
func (s *Service) Create(ctx context.Context, in CreateInput) (Runbook, error) {
	var out Runbook
	var html string // the new version's, rendered to check it
	args := map[string]any{"title": clip(in.Title, 200), "kind": string(in.Kind), "url": clip(in.URL, 200), "links": in.Links,
		"bytes": len(in.Markdown), "message": clip(in.Message, 200)}
	err := s.audited(ctx, audit.Entry{Action: string(policy.RunbookCreate), Resource: "", Args: args}, func(ctx context.Context) error {
		if err := policy.Gate(principal.From(ctx), policy.RunbookCreate); err != nil {
			return err
		}
		if err := checkTitle("title", in.Title); err != nil {
			return err
		}
		if err := checkContent(in.Kind, in.Markdown, in.URL); err != nil {
			return err
		}
		if err := checkMessage("message", in.Message); err != nil {
			return err
		}
		refs, err := s.entityRefs(ctx, "links", in.Links)
		if err != nil {
			return err
		}
		// Created linked is linked: each entity's owners must consent (as Link asks), so the caller
		// must own every one; a runbook linked to nothing is the admins'.
		if len(refs) == 0 {
			if err := s.authorize(ctx, policy.RunbookCreate, "a runbook linked to nothing", refs); err != nil {
				return err
			}
		}
		for _, ref := range refs {
			if err := s.authorize(ctx, policy.RunbookCreate, "a runbook for "+ref, []string{ref}); err != nil {
				return err
			}
		}
		if in.Kind == Markdown {
			// Refused here rather than when first read: a rendering that takes seconds would
			// cost them on every first read of the version, by anyone.
			if html, err = s.render(in.Markdown); err != nil {
				return err
			}
		}
		rb := Runbook{Title: strings.TrimSpace(in.Title), Kind: in.Kind, URL: in.URL, Markdown: in.Markdown, Links: refs, CreatedAt: s.now().UTC()}
		return s.recs.st.InTx(ctx, func(ctx context.Context) error {
			if err := s.recs.insert(ctx, &rb, principal.From(ctx).Actor(), in.Message); err != nil {
				return err
			}
			out = rb
			// The record names what was created (its resource was unknown until now), so that
			// the runbook's later records lead back to its creation.
			args["id"] = rb.ID
			return audit.Flush(ctx)
		})
	})
	if err == nil && in.Kind == Markdown {
		s.keepRendering(out, html) // its first read needs no rendering again
	}
	return out, err
}

// UpdateInput is an edit of a runbook: a new version of it.
type UpdateInput struct {
	ID int64
	// BaseVersion is the version the edit was made on; when the runbook has moved on, the edit
	// is refused (CONFLICT) rather than silently undoing the other one.
	BaseVersion int
	// Title, Markdown and URL replace the runbook's; nil keeps what it has.
	Title    *string
	Markdown *string
	URL      *string
	Message  string
}

// loadForEdit reads a runbook and checks the caller may change it.
func (s *Service) loadForEdit(ctx context.Context, action policy.Action, id int64) (Runbook, error) {
	if err := policy.Gate(principal.From(ctx), action); err != nil {
		return Runbook{}, err
	}
	rb, err := s.recs.byID(ctx, id)
	if err != nil {
		return Runbook{}, err
	}
	return rb, s.authorize(ctx, action, what(id), rb.Links)
}

// Update records a new version of a runbook, for the owners of what it is linked to and admins;
// audited. An edit based on a version that is no longer the newest is a CONFLICT; one that
// changes neither title nor content records no version and returns the runbook as it is.
func (s *Service) Update(ctx context.Context, in UpdateInput) (Runbook, error) {
	var out Runbook
	var html string // the new version's, rendered to check it when its Markdown changed
	rendered := false
	args := map[string]any{"id": in.ID, "baseVersion": in.BaseVersion, "message": clip(in.Message, 200)}
	if in.Title != nil {
		args["title"] = clip(*in.Title, 200)
	}
	if in.Markdown != nil {
		args["bytes"] = len(*in.Markdown)
	}
	if in.URL != nil {
		args["url"] = clip(*in.URL, 200)
	}
	err := s.audited(ctx, audit.Entry{Action: string(policy.RunbookUpdate), Resource: what(in.ID), Args: args}, func(ctx context.Context) error {
		if err := checkMessage("message", in.Message); err != nil {
			return err
		}
		if in.BaseVersion < 1 {
			return errs.InvalidField("baseVersion", "must name the version the edit was made on (1 or more), got %d", in.BaseVersion)
		}
		rb, err := s.loadForEdit(ctx, policy.RunbookUpdate, in.ID)
		if err != nil {
			return err
		}
		if rb.Version != in.BaseVersion {
			return errStale(in.ID, in.BaseVersion, rb.Version)
		}
		cur := rb
		if in.Title != nil {
			if err := checkTitle("title", *in.Title); err != nil {
				return err
			}
			rb.Title = strings.TrimSpace(*in.Title)
		}
		if in.Markdown != nil {
			rb.Markdown = *in.Markdown
		}
		if in.URL != nil {
			rb.URL = *in.URL
		}
		if err := checkContent(rb.Kind, rb.Markdown, rb.URL); err != nil {
			return err
		}
		if rb.Title == cur.Title && rb.Markdown == cur.Markdown && rb.URL == cur.URL {
			// Saving what is there is no edit: a version that changes nothing would fill the
			// history (and its diffs) with noise and move baseVersion under other editors.
			out = cur
			args["unchanged"] = true // the action's one record says that nothing changed
			return nil
		}
		if in.Markdown != nil && rb.Kind == Markdown {
			var err error
			if html, err = s.render(rb.Markdown); err != nil { // as Create
				return err
			}
			rendered = true
		}
		return s.recs.st.InTx(ctx, func(ctx context.Context) error {
			if err := s.recs.update(ctx, &rb, in.BaseVersion, principal.From(ctx).Actor(), in.Message, s.now().UTC()); err != nil {
				return err
			}
			out = rb
			return audit.Flush(ctx)
		})
	})
	if err == nil && rendered {
		s.keepRendering(out, html)
	}
	return out, err
}

// Link links a runbook to an entity, for whoever may edit the runbook and owns the entity (a
// runbook lands on a page only with its owners' consent), and admins; audited.
func (s *Service) Link(ctx context.Context, id int64, entity string) (Runbook, error) {
	var out Runbook
	err := s.audited(ctx, audit.Entry{Action: string(policy.RunbookLink), Resource: what(id), Args: map[string]any{"id": id, "entity": clip(entity, 200)}},
		func(ctx context.Context) error {
			rb, err := s.loadForEdit(ctx, policy.RunbookLink, id)
			if err != nil {
				return err
			}
			refs, err := s.entityRefs(ctx, "entity", []string{entity})
			if err != nil {
				// entity is one ref, not a list: the error names the input as the client sent it.
				return renameField(err, "entity[0]", "entity")
			}
			if err := s.authorize(ctx, policy.RunbookLink, refs[0], refs); err != nil {
				return err
			}
			if !slices.Contains(rb.Links, refs[0]) && len(rb.Links) >= MaxLinks {
				return errs.InvalidField("entity", "runbook %d is linked to %d entities already; at most %d", id, len(rb.Links), MaxLinks)
			}
			return s.recs.st.InTx(ctx, func(ctx context.Context) error {
				// Counted again under the runbook's lock: two links added at once cannot both
				// pass the check above and end at 51.
				if err := s.recs.lock(ctx, id); err != nil {
					return err
				}
				if err := s.recs.link(ctx, id, refs[0]); err != nil {
					return err
				}
				n, err := s.recs.countLinks(ctx, id)
				if err != nil {
					return err
				}
				if n > MaxLinks {
					return errs.InvalidField("entity", "runbook %d would be linked to %d entities; at most %d", id, n, MaxLinks)
				}
				if out, err = s.recs.byID(ctx, id); err != nil {
					return err
				}
				return audit.Flush(ctx)
			})
		})
	return out, err
}

// Unlink removes a runbook's link to an entity, for whoever may edit the runbook or owns the
// entity (owners may take a runbook off their page), and admins; audited. Unlinking what is not
// linked is NOT_FOUND; unlinking the last entity is the admins' alone (INVALID for others).
func (s *Service) Unlink(ctx context.Context, id int64, entity string) (Runbook, error) {
	var out Runbook
	err := s.audited(ctx, audit.Entry{Action: string(policy.RunbookUnlink), Resource: what(id), Args: map[string]any{"id": id, "entity": clip(entity, 200)}},
		func(ctx context.Context) error {
			if err := policy.Gate(principal.From(ctx), policy.RunbookUnlink); err != nil {
				return err
			}
			if len(entity) > 512 {
				return errs.InvalidField("entity", "has %d bytes; an entity reference has at most 512", len(entity))
			}
			r, err := backstage.ParseRef(entity, backstage.KindComponent, backstage.DefaultNamespace)
			if err != nil {
				return errs.InvalidField("entity", "%s", strings.TrimPrefix(errs.PublicMessage(err), "entity reference "))
			}
			ref := r.String()
			rb, err := s.recs.byID(ctx, id)
			if err != nil {
				return err
			}
			if err := s.authorize(ctx, policy.RunbookUnlink, what(id), append(slices.Clone(rb.Links), ref)); err != nil {
				return err
			}
			return s.recs.st.InTx(ctx, func(ctx context.Context) error {
				// Under the runbook's lock, as Link counts: two unlinks at once cannot both
				// leave one link and end at none.
				if err := s.recs.lock(ctx, id); err != nil {
					return err
				}
				removed, err := s.recs.unlink(ctx, id, ref)
				if err != nil {
					return err
				}
				if !removed {
					return errs.E(errs.NotFound, "runbook %d is not linked to %s", id, ref)
				}
				// A runbook linked to nothing is the admins' alone: its owners, unlinking its
				// last entity, would lose it. They delete it, or link it elsewhere first.
				if !principal.From(ctx).Admin {
					n, err := s.recs.countLinks(ctx, id)
					if err != nil {
						return err
					}
					if n == 0 {
						return errs.InvalidField("entity", "%s is runbook %d's last link; linked to nothing, only admins could edit it: delete the runbook, or link it elsewhere first", ref, id)
					}
				}
				if out, err = s.recs.byID(ctx, id); err != nil {
					return err
				}
				return audit.Flush(ctx)
			})
		})
	return out, err
}

// Delete removes a runbook with its versions and links, for the owners of what it is linked to
// and admins; audited (the audit record is what remains of it).
func (s *Service) Delete(ctx context.Context, id int64) error {
	return s.audited(ctx, audit.Entry{Action: string(policy.RunbookDelete), Resource: what(id), Args: map[string]any{"id": id}},
		func(ctx context.Context) error {
			if _, err := s.loadForEdit(ctx, policy.RunbookDelete, id); err != nil {
				return err
			}
			return s.recs.st.InTx(ctx, func(ctx context.Context) error {
				if err := s.recs.remove(ctx, id); err != nil {
					return err
				}
				return audit.Flush(ctx)
			})
		})
}

// signedIn refuses anonymous readers: runbooks are readable by every signed-in user, as the
// catalog is.
func signedIn(ctx context.Context) error {
	if principal.From(ctx) == nil {
		return errs.E(errs.Unauthenticated, "sign in to read runbooks")
	}
	return nil
}

// Runbook returns one runbook.
func (s *Service) Runbook(ctx context.Context, id int64) (Runbook, error) {
	if err := signedIn(ctx); err != nil {
		return Runbook{}, err
	}
	return s.recs.byID(ctx, id)
}

// CheckSearchText refuses a search text that is too long or holds no word to search for.
func CheckSearchText(field, text string) error {
	if len(text) > MaxQuery {
		return errs.InvalidField(field, "has %d bytes; at most %d", len(text), MaxQuery)
	}
	if len(words.Query(text)) == 0 {
		return errs.InvalidField(field, "has no letters or digits to search for")
	}
	return nil
}

// Runbooks returns a page of runbooks, oldest first. Filter.Entity is a ref as a client typed it.
func (s *Service) Runbooks(ctx context.Context, f Filter, first int, after string) (*Page, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	if first < 0 || first > MaxPage {
		return nil, errs.InvalidField("first", "must be between 0 and %d, got %d", MaxPage, first)
	}
	if len(f.Query) > MaxQuery {
		return nil, errs.InvalidField("filter.query", "has %d bytes; at most %d", len(f.Query), MaxQuery)
	}
	if f.Text != "" {
		if err := CheckSearchText("filter.text", f.Text); err != nil {
			return nil, err
		}
	}
	if f.Kind != "" && f.Kind != Markdown && f.Kind != Link {
		return nil, errs.InvalidField("filter.kind", "%q is not a runbook kind; use MARKDOWN or LINK", clip(string(f.Kind), 40))
	}
	if f.Entity != "" {
		if len(f.Entity) > 512 {
			return nil, errs.InvalidField("filter.entity", "has %d bytes; an entity reference has at most 512", len(f.Entity))
		}
		r, err := backstage.ParseRef(f.Entity, backstage.KindComponent, backstage.DefaultNamespace)
		if err != nil {
			return nil, errs.InvalidField("filter.entity", "%s", strings.TrimPrefix(errs.PublicMessage(err), "entity reference "))
		}
		f.Entity = r.String()
	}
	return s.recs.list(ctx, f, first, after)
}

// ForEntity returns the runbooks linked to an entity (a canonical ref), oldest first.
func (s *Service) ForEntity(ctx context.Context, ref string) ([]Runbook, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	got, err := s.recs.forEntities(ctx, []string{ref})
	if err != nil {
		return nil, err
	}
	if got[ref] == nil {
		return []Runbook{}, nil
	}
	return got[ref], nil
}

// Versions returns up to first of a runbook's versions, newest first.
func (s *Service) Versions(ctx context.Context, id int64, first int) ([]Version, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	// A list, not a connection: no totalCount that first: 0 could be asked for alone.
	if first < 1 || first > MaxPage {
		return nil, errs.InvalidField("first", "must be between 1 and %d, got %d", MaxPage, first)
	}
	return s.recs.versions(ctx, id, first)
}

// Diff is the unified diff of a runbook's Markdown (or URL, for a LINK runbook) from one
// version to another; "" when they say the same. The title is compared too, as a header line.
func (s *Service) Diff(ctx context.Context, id int64, from, to int) (string, error) {
	if err := signedIn(ctx); err != nil {
		return "", err
	}
	a, err := s.recs.version(ctx, id, from)
	if err != nil {
		return "", errs.InvalidField("from", "%s", errs.PublicMessage(err))
	}
	b, err := s.recs.version(ctx, id, to)
	if err != nil {
		return "", errs.InvalidField("to", "%s", errs.PublicMessage(err))
	}
	name := func(v Version) string { return "runbook-" + strconv.FormatInt(id, 10) + "@v" + strconv.Itoa(v.Number) }
	return UnifiedDiff(name(a), name(b), versionText(a), versionText(b)), nil
}

// versionText is what a diff compares of a version: its title, then its URL or Markdown.
func versionText(v Version) string {
	text := "# title: " + v.Title + "\n"
	if v.URL != "" {
		text += "# url: " + v.URL + "\n"
	}
	return text + v.Markdown
}

// HTML is a runbook's Markdown rendered to safe HTML ("" for a LINK runbook); renderings are
// cached by version, which never changes.
//
// A version is rendered once at a time (readers of it at once share that rendering) and its
// failure is kept as its HTML would be, unless it was too slow (which depends on the machine's
// load): a version stored before renderings were bounded, with tables of too many cells, costs
// its check once, not at every read.
func (s *Service) HTML(rb Runbook) (string, error) {
	if rb.Kind != Markdown {
		return "", nil
	}
	key := versionKey{rb.ID, rb.Version}
	if r, ok := s.rendered.Get(key); ok {
		return r.html, r.err
	}
	v, _, _ := s.renders.Do(strconv.FormatInt(rb.ID, 10)+"@"+strconv.Itoa(rb.Version), func() (any, error) {
		if r, ok := s.rendered.Get(key); ok { // rendered by the call just before this one
			return r, nil
		}
		h, err := s.render(rb.Markdown)
		switch {
		case errs.CodeOf(err) == errs.Invalid:
			err = errs.Wrap(errs.Invalid, err, "%s version %d cannot be shown: its %s; edit it", what(rb.ID), rb.Version, errs.PublicMessage(err))
		case err != nil:
			err = errs.Wrap(errs.Internal, err, "render %s", what(rb.ID))
		}
		r := rendering{html: h, err: err}
		// A rendering stopped at its deadline may pass on a quieter machine: it is not kept.
		if !errors.As(err, &tooSlowError{}) {
			s.rendered.Add(key, r, len(h)+renderingOverhead)
		}
		return r, nil
	})
	r := v.(rendering)
	return r.html, r.err
}

// keepRendering keeps the HTML a write rendered (to check it) as its new version's.
func (s *Service) keepRendering(rb Runbook, html string) {
	s.rendered.Add(versionKey{rb.ID, rb.Version}, rendering{html: html}, len(html)+renderingOverhead)
}

// rendering is a version's HTML, or why it has none.
type rendering struct {
	html string
	err  error
}

// The HTML cache's budget: about a hundred large runbooks, or thousands of common ones.
const (
	renderedBytes     = 64 << 20
	renderingOverhead = 256
)
