package gitlab

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"strconv"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/jsonerr"
)

// TokenHeader carries the secret token GitLab sends with every webhook delivery (GitLab does not
// sign the body: the token is the proof).
const TokenHeader = "X-Gitlab-Token"

// EventHeader names the event of a delivery ("Pipeline Hook", "Job Hook", …).
const EventHeader = "X-Gitlab-Event"

// VerifyToken checks a delivery's X-Gitlab-Token against the configured secret in constant time
// (both are hashed first, so neither their contents nor their lengths show in the timing). The
// error says what was wrong without echoing the token or the secret.
func VerifyToken(secret []byte, header string) error {
	if len(secret) == 0 {
		return errs.E(errs.Unauthenticated, "GitLab webhooks are not accepted: no gitlab-webhook-secret is set")
	}
	if header == "" {
		return errs.E(errs.Unauthenticated, "the webhook has no %s", TokenHeader)
	}
	want, got := sha256.Sum256(secret), sha256.Sum256([]byte(header))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return errs.E(errs.Unauthenticated, "the webhook's %s is not the configured secret", TokenHeader)
	}
	return nil
}

// PipelineOf returns the pipeline a Pipeline Hook or Job Hook delivery is about ("" for other
// events, which are acknowledged and ignored). System hooks carry the same payloads under the
// "System Hook" event, told apart by object_kind.
func PipelineOf(event string, body []byte) (string, error) {
	switch event {
	case "Pipeline Hook", "Job Hook", "System Hook":
	default:
		return "", nil
	}
	var payload struct {
		ObjectKind       string `json:"object_kind"`
		ObjectAttributes *struct {
			ID int64 `json:"id"`
		} `json:"object_attributes"`
		PipelineID int64 `json:"pipeline_id"`
	}
	if err := json.Unmarshal(body, &payload); err != nil {
		return "", errs.E(errs.Invalid, "the %s event is not GitLab's JSON: %s", event, jsonerr.Describe(err))
	}
	switch payload.ObjectKind {
	case "pipeline":
		if payload.ObjectAttributes != nil && payload.ObjectAttributes.ID > 0 {
			return strconv.FormatInt(payload.ObjectAttributes.ID, 10), nil
		}
	case "build":
		if payload.PipelineID > 0 {
			return strconv.FormatInt(payload.PipelineID, 10), nil
		}
	default:
		if event == "System Hook" {
			return "", nil // a system hook about something else
		}
	}
	return "", errs.E(errs.Invalid, "the %s event names no pipeline", event)
}

// MergeRequestOf returns the project (its path with namespace) and source branch of a merge
// request a Merge Request Hook (or a System Hook of kind merge_request) says was merged or closed
// ("" for other events and actions, which are acknowledged and ignored). Only where to look is
// taken from the delivery: what became of the merge request is read from GitLab's API.
func MergeRequestOf(event string, body []byte) (project, branch string, err error) {
	switch event {
	case "Merge Request Hook", "System Hook":
	default:
		return "", "", nil
	}
	var payload struct {
		ObjectKind string `json:"object_kind"`
		Project    *struct {
			PathWithNamespace string `json:"path_with_namespace"`
		} `json:"project"`
		ObjectAttributes *struct {
			Action       string `json:"action"`
			SourceBranch string `json:"source_branch"`
		} `json:"object_attributes"`
	}
	if err := json.Unmarshal(body, &payload); err != nil {
		return "", "", errs.E(errs.Invalid, "the %s event is not GitLab's JSON: %s", event, jsonerr.Describe(err))
	}
	if payload.ObjectKind != "merge_request" {
		if event == "System Hook" {
			return "", "", nil // a system hook about something else
		}
		return "", "", errs.E(errs.Invalid, "the %s event is not about a merge request", event)
	}
	a := payload.ObjectAttributes
	if a == nil || (a.Action != "merge" && a.Action != "close") {
		return "", "", nil
	}
	if a.SourceBranch == "" || payload.Project == nil || payload.Project.PathWithNamespace == "" {
		return "", "", errs.E(errs.Invalid, "the %s event names no merge request source branch and project", event)
	}
	return payload.Project.PathWithNamespace, a.SourceBranch, nil
}
