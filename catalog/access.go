package catalog

import (
	"context"
	"slices"
	"strings"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
)

// LinkUser finds the catalog User entity of a signed-in person (auth.Directory): by name (the
// username is the entity's name in the default namespace) and/or by email (spec.profile.email),
// in the order given; "" when none matches.
func (s *Service) LinkUser(ctx context.Context, username, email string, by []string) (string, error) {
	for _, method := range by {
		var refs []string
		var err error
		switch method {
		case "name":
			refs, err = s.usersNamed(ctx, username)
		case "email":
			if email == "" {
				continue
			}
			refs, err = s.usersWithEmail(ctx, email)
		default:
			return "", errs.E(errs.Internal, "catalog: unknown user link method %q", method)
		}
		if err != nil {
			return "", err
		}
		if len(refs) == 1 {
			return refs[0], nil
		}
		// Two users with one email address link to neither: guessing would hand out someone's rights.
	}
	return "", nil
}

// memberships are the groups a principal belongs to: those its identity provider names and those
// the catalog's User entity declares (memberOf) or its groups declare (spec.members).
func (s *Service) memberships(ctx context.Context, p *principal.Principal) ([]string, error) {
	groups := append([]string(nil), p.Groups...)
	if p.EntityRef == "" {
		return groups, nil
	}
	fromCatalog, err := s.groupsOfUser(ctx, p.EntityRef)
	if err != nil {
		return nil, err
	}
	return append(groups, fromCatalog...), nil
}

// ownsAnyFrom reports whether p owns at least one entity the location provides.
func (s *Service) ownsAnyFrom(ctx context.Context, p *principal.Principal, locationID int64) (bool, error) {
	return s.ownsAny(ctx, p, "location_id", locationID)
}

// Owns reports whether p owns the entity ref names: its owner is p's User entity, or a group p
// belongs to, or a group below one of those. An entity that does not exist is owned by nobody.
func (s *Service) Owns(ctx context.Context, p *principal.Principal, ref string) (bool, error) {
	return s.ownsAny(ctx, p, "ref", ref)
}

// ownsAny reports whether p owns at least one of the entities whose column holds value.
func (s *Service) ownsAny(ctx context.Context, p *principal.Principal, column string, value any) (bool, error) {
	if p == nil {
		return false, nil
	}
	groups, err := s.memberships(ctx, p)
	if err != nil {
		return false, err
	}
	if len(groups) == 0 && p.EntityRef == "" {
		return false, nil
	}
	return s.anyOwnedBy(ctx, column, value, p.EntityRef, groups)
}

// audited runs a catalog change as an audited, authorized action.
func (s *Service) audited(ctx context.Context, e audit.Entry, fn func(ctx context.Context) error) error {
	if s.audit == nil {
		return fn(ctx)
	}
	return s.audit.Do(ctx, e, fn)
}

// InGroup reports whether p belongs to group (a canonical Group ref) or to a group above it in
// the hierarchy, as ownership counts membership: its identity provider's groups and the catalog's
// memberships of its User entity. Other domains (tasks) decide "member of the owning group" here.
func (s *Service) InGroup(ctx context.Context, p *principal.Principal, group string) (bool, error) {
	if p == nil {
		return false, nil
	}
	groups, err := s.memberships(ctx, p)
	if err != nil || len(groups) == 0 {
		return false, err
	}
	return s.groupBelow(ctx, group, groups)
}

// InGroups is InGroup for several groups at once, in at most two statements whatever their
// number (p's memberships, then which of the groups are one of them or below one): what a page of tasks
// of many projects needs to say which the viewer may change. The answer has a key for every group
// asked.
func (s *Service) InGroups(ctx context.Context, p *principal.Principal, groups []string) (map[string]bool, error) {
	out := make(map[string]bool, len(groups))
	for _, g := range groups {
		out[g] = false
	}
	if p == nil || len(groups) == 0 {
		return out, nil
	}
	mine, err := s.memberships(ctx, p)
	if err != nil || len(mine) == 0 {
		return out, err
	}
	var rest []string
	for _, g := range groups {
		if slices.ContainsFunc(mine, func(m string) bool { return strings.EqualFold(m, g) }) {
			out[g] = true
		} else if !slices.Contains(rest, g) {
			rest = append(rest, g)
		}
	}
	if len(rest) == 0 {
		return out, nil
	}
	below, err := s.groupsBelow(ctx, rest, mine)
	if err != nil {
		return nil, err
	}
	for _, g := range below {
		out[g] = true
	}
	return out, nil
}

// EntityRef finds an entity by a reference a client typed (kind fills in a reference that names
// none, and the entity must be of that kind) and returns its canonical ref; field names the input
// in errors. An entity that does not exist is NOT_FOUND naming field (extensions.field in
// GraphQL); a database that cannot be read is UNAVAILABLE, not a missing entity.
func (s *Service) EntityRef(ctx context.Context, field, ref, kind string) (string, error) {
	r, err := ParseRefInput(field, ref, kind)
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(r.Kind, kind) {
		return "", errs.InvalidField(field, "%s is not a %s", r, kind)
	}
	if _, err := s.Entity(ctx, r); errs.Is(err, errs.NotFound) {
		return "", errs.NotFoundField(field, "no %s %s in the catalog", kind, r)
	} else if err != nil {
		return "", err
	}
	return r.String(), nil
}

// MaxUserMatches bounds the users MatchUsers returns.
const MaxUserMatches = 20

// MatchUsers returns the catalog Users a person may mean by text: those whose ref it is (when it
// reads as one, "user:default/alice"), or whose name, title (metadata.title or
// spec.profile.displayName) or e-mail (spec.profile.email) it is, case-insensitively; at most
// limit of them (MaxUserMatches), by ref. The entities are shared: callers must not modify them.
func (s *Service) MatchUsers(ctx context.Context, text string, limit int) ([]*backstage.Entity, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	limit = min(max(limit, 1), MaxUserMatches)
	var refs []string
	if strings.ContainsAny(text, ":/") {
		r, err := backstage.ParseRef(text, "user", backstage.DefaultNamespace)
		if err != nil || !strings.EqualFold(r.Kind, "user") {
			return nil, nil
		}
		refs = []string{r.String()}
	} else {
		var err error
		if refs, err = s.usersMatching(ctx, strings.ToLower(text), limit); err != nil {
			return nil, err
		}
	}
	parsed := make([]backstage.Ref, 0, len(refs))
	for _, r := range refs {
		parsed = append(parsed, refOrZero(r))
	}
	got, err := s.EntitiesByRef(ctx, parsed)
	if err != nil {
		return nil, err
	}
	out := make([]*backstage.Entity, 0, len(got))
	for _, r := range parsed {
		if e, ok := got[r]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}
