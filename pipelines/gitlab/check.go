package gitlab

import (
	"context"
	"fmt"

	gl "gitlab.com/gitlab-org/api/client-go/v2"
)

// Check asks GitLab for its version, which only an accepted token may read: it proves the API
// is reachable and the token good. `portside doctor` runs it.
func (p *Provider) Check(ctx context.Context) (string, error) {
	v, _, err := p.client.Version.GetVersion(gl.WithContext(ctx))
	if err != nil {
		return "", p.check(err, "read GitLab's version")
	}
	return fmt.Sprintf("token accepted: GitLab %s", v.Version), nil
}
