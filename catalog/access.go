package catalog

import (
	"context"
	"errors"
	"strings"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// LinkUser finds the catalog User entity of a signed-in person (auth.Directory): by name (the
// username is the entity's name in the default namespace) and/or by email (spec.profile.email),
// in the order given; "" when none matches.
func (s *Service) LinkUser(ctx context.Context, username, email string, by []string) (string, error) {
	for _, method := range by {
		var refs []string
		db := s.st.DB(ctx).Model(&entityRow{}).Where("kind = ?", "User")
		switch method {
		case "name":
			db = db.Where("ref = ?", "user:default/"+strings.ToLower(username))
		case "email":
			if email == "" {
				continue
			}
			expr := "json_extract(body, '$.spec.profile.email')"
			if s.st.Dialect() == store.Postgres {
				expr = "(body::jsonb -> 'spec' -> 'profile' ->> 'email')"
			}
			db = db.Where("lower("+expr+") = ?", strings.ToLower(email))
		default:
			return "", errs.E(errs.Internal, "catalog: unknown user link method %q", method)
		}
		if err := db.Order("ref").Limit(2).Pluck("ref", &refs).Error; err != nil {
			return "", store.Translate(err, "users")
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
	var fromCatalog []string
	err := s.st.DB(ctx).Raw(
		"SELECT r.target_ref FROM entities u JOIN relations r ON r.entity_id = u.id WHERE u.ref = ? AND r.type = ? "+
			"UNION SELECT g.ref FROM relations r JOIN entities g ON g.id = r.entity_id WHERE r.target_ref = ? AND r.type = ?",
		p.EntityRef, RelMemberOf, p.EntityRef, RelHasMember).Scan(&fromCatalog).Error
	if err != nil {
		return nil, store.Translate(err, "memberships")
	}
	return append(groups, fromCatalog...), nil
}

// ownsAnyFrom reports whether p owns at least one entity the location provides.
func (s *Service) ownsAnyFrom(ctx context.Context, p *principal.Principal, locationID int64) (bool, error) {
	return s.ownsAny(ctx, p, s.st.DB(ctx).Model(&entityRow{}).Where("location_id = ?", locationID))
}

// Owns reports whether p owns the entity ref names: its owner is p's User entity, or a group p
// belongs to, or a group below one of those. An entity that does not exist is owned by nobody.
func (s *Service) Owns(ctx context.Context, p *principal.Principal, ref string) (bool, error) {
	return s.ownsAny(ctx, p, s.st.DB(ctx).Model(&entityRow{}).Where("ref = ?", ref))
}

// ownsAny reports whether p owns at least one of the entities db selects.
func (s *Service) ownsAny(ctx context.Context, p *principal.Principal, db *gorm.DB) (bool, error) {
	if p == nil {
		return false, nil
	}
	groups, err := s.memberships(ctx, p)
	if err != nil {
		return false, err
	}
	seeds := []string{}
	args := []any{}
	for _, g := range groups {
		seeds = append(seeds, "SELECT ?")
		args = append(args, g)
	}
	switch {
	case len(seeds) > 0 && p.EntityRef != "":
		db = db.Where("owner_ref = ? OR owner_ref IN ("+s.descendantsSQL(strings.Join(seeds, " UNION "))+")", append([]any{p.EntityRef}, args...)...)
	case len(seeds) > 0:
		db = db.Where("owner_ref IN ("+s.descendantsSQL(strings.Join(seeds, " UNION "))+")", args...)
	case p.EntityRef != "":
		db = db.Where("owner_ref = ?", p.EntityRef)
	default:
		return false, nil
	}
	var id int64
	err = db.Select("id").Limit(1).Scan(&id).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return false, store.Translate(err, "ownership")
	}
	return id != 0, nil
}

// audited runs a catalog change as an audited, authorized action.
func (s *Service) audited(ctx context.Context, e audit.Entry, fn func(ctx context.Context) error) error {
	if s.audit == nil {
		return fn(ctx)
	}
	return s.audit.Do(ctx, e, fn)
}
