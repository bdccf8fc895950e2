package github

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/jsonerr"
)

// SignatureHeader carries a webhook's HMAC-SHA256 of the body, keyed with the webhook secret.
const SignatureHeader = "X-Hub-Signature-256"

// VerifySignature checks a webhook's X-Hub-Signature-256 against the body, comparing in constant
// time. The error says what was wrong without echoing the signature or the secret.
func VerifySignature(secret []byte, body []byte, header string) error {
	if len(secret) == 0 {
		return errs.E(errs.Unauthenticated, "GitHub webhooks are not accepted: no github-webhook-secret is set")
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return errs.E(errs.Unauthenticated, "the webhook has no %s signature", SignatureHeader)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return errs.E(errs.Unauthenticated, "the webhook's %s is not a hex HMAC", SignatureHeader)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errs.E(errs.Unauthenticated, "the webhook's %s does not match its body", SignatureHeader)
	}
	return nil
}

// RunOf returns the workflow run a workflow_run or workflow_job event is about ("" for events
// about something else, which are acknowledged and ignored).
func RunOf(event string, body []byte) (string, error) {
	var payload struct {
		WorkflowRun *struct {
			ID int64 `json:"id"`
		} `json:"workflow_run"`
		WorkflowJob *struct {
			RunID int64 `json:"run_id"`
		} `json:"workflow_job"`
	}
	switch event {
	case "workflow_run", "workflow_job":
	default:
		return "", nil
	}
	if err := json.Unmarshal(body, &payload); err != nil {
		return "", errs.E(errs.Invalid, "the %s event is not GitHub's JSON: %s", event, jsonerr.Describe(err))
	}
	switch {
	case payload.WorkflowRun != nil && payload.WorkflowRun.ID > 0:
		return strconv.FormatInt(payload.WorkflowRun.ID, 10), nil
	case payload.WorkflowJob != nil && payload.WorkflowJob.RunID > 0:
		return strconv.FormatInt(payload.WorkflowJob.RunID, 10), nil
	}
	return "", errs.E(errs.Invalid, "the %s event names no run", event)
}

// PullRequestOf returns the repository (owner/name) and head branch of a pull request a
// pull_request event says was closed, merged or not ("" for other events and actions, which are
// acknowledged and ignored). Only where to look is taken from the delivery: what became of the pull
// request is read from GitHub's API.
func PullRequestOf(event string, body []byte) (project, branch string, err error) {
	if event != "pull_request" {
		return "", "", nil
	}
	var payload struct {
		Action      string `json:"action"`
		PullRequest *struct {
			Head struct {
				Ref string `json:"ref"`
			} `json:"head"`
		} `json:"pull_request"`
		Repository *struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
	}
	if err := json.Unmarshal(body, &payload); err != nil {
		return "", "", errs.E(errs.Invalid, "the %s event is not GitHub's JSON: %s", event, jsonerr.Describe(err))
	}
	if payload.Action != "closed" {
		return "", "", nil
	}
	if payload.PullRequest == nil || payload.PullRequest.Head.Ref == "" || payload.Repository == nil || payload.Repository.FullName == "" {
		return "", "", errs.E(errs.Invalid, "the %s event names no pull request head and repository", event)
	}
	return payload.Repository.FullName, payload.PullRequest.Head.Ref, nil
}
