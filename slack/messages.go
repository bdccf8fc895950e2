package slack

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// messageRow is the Slack message a deploy request was posted as (slack_messages). It lives in the
// database rather than in the bot's memory so that the bot updates, and replies in the thread of,
// a message posted before a restart or by another replica.
type messageRow struct {
	RequestID int64 `gorm:"primaryKey;autoIncrement:false"`
	Channel   string
	Ts        string
	// LastReply is the last rollout note replied in the message's thread, and LastTransition the
	// transition it told.
	LastReply      string
	LastTransition int64
	// ReplyingUntil is set while the bot that claimed LastReply posts it, and says until when
	// that claim holds (a bot that died mid-post holds the thread no longer); nil once it was
	// posted (or refused by Slack).
	ReplyingUntil *time.Time
	CreatedAt     time.Time
}

func (messageRow) TableName() string { return "slack_messages" }

// messages keeps the request → message map.
type messages struct{ st *store.Store }

// put records the message a request was posted as; a second post of the same request (it cannot
// happen from one bot, which posts on REQUESTED only) keeps the first.
func (m messages) put(ctx context.Context, id int64, channel, ts string, at time.Time) error {
	err := m.st.DB(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&messageRow{RequestID: id, Channel: channel, Ts: ts, CreatedAt: at.UTC()}).Error
	return store.Translate(err, "the Slack message of "+requestName(id))
}

// get finds the message a request was posted as; ok is false when it was not posted.
func (m messages) get(ctx context.Context, id int64) (postedMessage, bool, error) {
	var rows []messageRow
	if err := m.st.DB(ctx).Where("request_id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return postedMessage{}, false, store.Translate(err, "the Slack message of "+requestName(id))
	}
	if len(rows) == 0 {
		return postedMessage{}, false, nil
	}
	return postedMessage{channel: rows[0].Channel, ts: rows[0].Ts}, true, nil
}

// claim is what claimReply decided.
type claim int

const (
	// claimed: the caller posts the reply, then calls replied.
	claimed claim = iota
	// told: the move, or a later one, or the same note, was told (or is being told) already.
	told
	// busy: another bot is posting the reply of an earlier move; the caller waits and asks again,
	// so that replies reach the thread in the order of the moves.
	busy
)

// claimReply records note, told by transition, as the last reply in a request's thread when this
// call changed it and no other bot is still posting an earlier reply: the caller replies only
// then (claimed), holding the thread until replied or until `until`. So a move is told once however
// many bots see it (replicas, a replayed event), a move older than the last one told is not told
// after it, the same note recorded twice in a row (two replicas recording one canary step) is
// told once, and two bots telling consecutive moves post them in order: the later waits (busy)
// while the earlier is posted. (Deciding the claim alone, as before, let the bot with the later
// move post first while the one with the earlier move was still on its way to Slack.)
func (m messages) claimReply(ctx context.Context, id, transition int64, note string, now, until time.Time) (claim, error) {
	res := m.st.DB(ctx).Model(&messageRow{}).
		Where("request_id = ? AND last_transition < ? AND last_reply <> ? AND (replying_until IS NULL OR replying_until < ?)", id, transition, note, now.UTC()).
		Updates(map[string]any{"last_reply": note, "last_transition": transition, "replying_until": until.UTC()})
	if res.Error != nil {
		return told, store.Translate(res.Error, "the Slack message of "+requestName(id))
	}
	if res.RowsAffected == 1 {
		return claimed, nil
	}
	var rows []messageRow
	if err := m.st.DB(ctx).Where("request_id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return told, store.Translate(err, "the Slack message of "+requestName(id))
	}
	if len(rows) == 0 || rows[0].LastTransition >= transition || rows[0].LastReply == note {
		return told, nil
	}
	return busy, nil
}

// replied releases the thread claimReply held for transition: its reply was posted (or refused).
func (m messages) replied(ctx context.Context, id, transition int64) error {
	err := m.st.DB(ctx).Model(&messageRow{}).Where("request_id = ? AND last_transition = ?", id, transition).
		Update("replying_until", nil).Error
	return store.Translate(err, "the Slack message of "+requestName(id))
}

// Models lists the gorm row types of the Slack bot, for the schema conformance test.
func Models() []any { return []any{&messageRow{}, &seenRow{}} }

func requestName(id int64) string { return fmt.Sprintf("deploy request %d", id) }

// seenRow is a signature of a request Slack sent, kept until expires_at (see Bot.Verify).
type seenRow struct {
	Signature string `gorm:"primaryKey"`
	ExpiresAt time.Time
}

func (seenRow) TableName() string { return "slack_requests_seen" }

// firstSeen records a request's signature until expires and reports whether it is the first
// time it is seen (a unique key decides, across replicas); signatures past their expiry are
// removed first, at most a thousand a call.
func (m messages) firstSeen(ctx context.Context, signature string, now, expires time.Time) (bool, error) {
	db := m.st.DB(ctx)
	old := db.Model(&seenRow{}).Select("signature").Where("expires_at < ?", now).Limit(1000)
	if err := db.Where("signature IN (?)", old).Delete(&seenRow{}).Error; err != nil {
		return false, store.Translate(err, "seen Slack requests")
	}
	err := db.Create(&seenRow{Signature: signature, ExpiresAt: expires}).Error
	if err == nil {
		return true, nil
	}
	if err = store.Translate(err, "seen Slack request"); errs.Is(err, errs.Conflict) {
		return false, nil
	}
	return false, err
}
