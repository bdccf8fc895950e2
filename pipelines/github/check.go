package github

import (
	"context"
	"fmt"
)

// Check asks GitHub how much of its rate limit the configured token has left, which proves the
// API is reachable and the token accepted (a token GitHub refuses is an error; no token gets the
// anonymous limit of 60 an hour, which Check reports as such). `portside doctor` runs it.
func (p *Provider) Check(ctx context.Context) (string, error) {
	limits, _, err := p.client.RateLimit.Get(ctx)
	if err != nil {
		return "", p.check(err, "read the rate limit")
	}
	core := limits.GetCore()
	if core == nil {
		return "reachable (no core rate limit reported)", nil
	}
	return fmt.Sprintf("token accepted: %d of %d requests left this hour", core.Remaining, core.Limit), nil
}
