package audit

import (
	"encoding/json"
	"time"
)

// recordRow is an audit record as stored. The table refuses updates and deletes (see the migration).
type recordRow struct {
	ID        int64 `gorm:"primaryKey"`
	At        time.Time
	Actor     string
	ActorKind string
	Client    string
	Action    string
	Resource  string
	Arguments string
	Outcome   string
	Code      string
	Message   string
	RequestID string
}

func (recordRow) TableName() string { return "audit_records" }

func (r *recordRow) toRecord() Record {
	return Record{ID: r.ID, At: r.At.UTC(), Actor: r.Actor, ActorKind: r.ActorKind, Client: r.Client,
		Action: r.Action, Resource: r.Resource, Arguments: json.RawMessage(r.Arguments), Outcome: Outcome(r.Outcome),
		Code: r.Code, Message: r.Message, RequestID: r.RequestID}
}

// Models lists the gorm row types of the audit log, for the schema conformance test.
func Models() []any { return []any{&recordRow{}} }
