package catalog

import (
	"context"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/principal"
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
