package model

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
)

// Viewer is the signed-in caller; its user and sessions fields have resolvers.
type Viewer struct {
	Principal *principal.Principal
}

func (v *Viewer) Username() string        { return v.Principal.Username }
func (v *Viewer) Email() *string          { return optional(v.Principal.Email) }
func (v *Viewer) DisplayName() *string    { return optional(v.Principal.DisplayName) }
func (v *Viewer) Groups() []string        { return nonNil(v.Principal.Groups) }
func (v *Viewer) Admin() bool             { return v.Principal.Admin }
func (v *Viewer) Scopes() []string        { return nonNil(v.Principal.Scopes) }
func (v *Viewer) AuthenticatedBy() string { return strings.ToUpper(string(v.Principal.Kind)) }

// NewAPIToken converts a token.
func NewAPIToken(t *auth.Token) *APIToken {
	return &APIToken{ID: EncodeNumericID("ApiToken", t.ID), Name: t.Name, Username: t.Username, Scopes: nonNil(t.Scopes),
		Admin: t.Admin, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt,
		LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt}
}

// NewSession converts a session.
func NewSession(s auth.Session) *Session {
	return &Session{ID: EncodeNumericID("Session", s.ID), UserAgent: s.UserAgent, CreatedAt: s.CreatedAt,
		LastSeenAt: s.LastSeenAt, ExpiresAt: s.ExpiresAt, Current: s.Current}
}

// Spec converts the token input.
func (in CreateAPITokenInput) Spec() (auth.TokenSpec, error) {
	spec := auth.TokenSpec{Name: in.Name, Scopes: in.Scopes}
	if in.Scopes != nil && len(in.Scopes) == 0 {
		// Left out, scopes mean both; an empty list would too, and read as none.
		return spec, errs.InvalidField("scopes", "is empty; list read and/or write, or leave scopes out for both")
	}
	if in.Username != nil {
		spec.Username = *in.Username
	}
	if in.Admin != nil {
		spec.Admin = *in.Admin
	}
	if in.TTL != nil {
		d, err := time.ParseDuration(*in.TTL)
		if err != nil || d <= 0 {
			return spec, errs.InvalidField("ttl", "%q is not a positive duration like 720h or 90m", *in.TTL)
		}
		spec.TTL = d
	}
	return spec, nil
}

// Filter converts the audit filter input.
func (f *AuditFilter) Filter() audit.Filter {
	if f == nil {
		return audit.Filter{}
	}
	out := audit.Filter{Since: f.Since, Until: f.Until}
	if f.Actor != nil {
		out.Actor = *f.Actor
	}
	if f.Action != nil {
		out.Action = *f.Action
	}
	if f.Resource != nil {
		out.Resource = *f.Resource
	}
	if f.Outcome != nil {
		out.Outcome = audit.Outcome(strings.ToLower(string(*f.Outcome)))
	}
	return out
}

// NewAuditConnection converts a page of audit records.
func NewAuditConnection(p *audit.Page) *AuditRecordConnection {
	out := &AuditRecordConnection{Nodes: make([]*AuditRecord, 0, len(p.Records)), TotalCount: p.TotalCount,
		PageInfo: &PageInfo{HasNextPage: p.HasMore}}
	if p.EndCursor != "" {
		out.PageInfo.EndCursor = &p.EndCursor
	}
	for _, r := range p.Records {
		// The audit log writes arguments as a JSON object; a record that holds something else
		// shows it whole rather than as nothing.
		args := map[string]any{}
		if err := json.Unmarshal(r.Arguments, &args); err != nil {
			args = map[string]any{"unreadable": string(r.Arguments)}
		}
		out.Nodes = append(out.Nodes, &AuditRecord{ID: EncodeNumericID("AuditRecord", r.ID), At: r.At, Actor: r.Actor,
			ActorKind: r.ActorKind, Client: r.Client, Action: r.Action, Resource: optional(r.Resource), Arguments: args,
			Outcome: AuditOutcome(strings.ToUpper(string(r.Outcome))), Code: optional(r.Code), Message: optional(r.Message),
			RequestID: optional(r.RequestID)})
	}
	return out
}
