package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/portside-dev/portside/errs"
)

// CheckToken asks Slack's auth.test who the bot token belongs to, at apiURL ("" is Slack's own
// Web API): it proves the API is reachable and the token good. `portside doctor` runs it.
func CheckToken(ctx context.Context, apiURL, token string) (string, error) {
	opts := []slackapi.Option{slackapi.OptionHTTPClient(&http.Client{Timeout: 10 * time.Second})}
	if apiURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(apiURL))
	}
	res, err := slackapi.New(token, opts...).AuthTestContext(ctx)
	if err != nil {
		if se, ok := errors.AsType[slackapi.SlackErrorResponse](err); ok {
			err = se
			return "", errs.E(errs.Unavailable, "Slack refused the bot token (auth.test: %v): check slack-bot-token", err)
		}
		return "", errs.Wrap(errs.Unavailable, err, "Slack could not be reached (auth.test)")
	}
	return fmt.Sprintf("token accepted: bot %s in workspace %s", res.User, res.Team), nil
}
