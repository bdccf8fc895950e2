package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/portside-dev/portside/errs"
)

// CheckIssuer discovers the OpenID provider at issuer and reads its signing keys, as a sign-in
// would: it proves the issuer URL is right (the discovery document names the same issuer), the
// endpoints a login needs are there, and tokens can be verified. `portside doctor` runs it.
func CheckIssuer(ctx context.Context, issuer string) (string, error) {
	hc := &http.Client{Timeout: 10 * time.Second}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, hc), issuer)
	if err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "the OpenID provider's discovery (%s/.well-known/openid-configuration) failed: %v", issuer, err)
	}
	var doc struct {
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
		UserInfo      string `json:"userinfo_endpoint"`
		JWKS          string `json:"jwks_uri"`
	}
	if err := p.Claims(&doc); err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "the OpenID provider's discovery document is unreadable")
	}
	for name, v := range map[string]string{"authorization_endpoint": doc.Authorization, "token_endpoint": doc.Token, "jwks_uri": doc.JWKS} {
		if v == "" {
			return "", errs.E(errs.Unavailable, "the OpenID provider's discovery document has no %s: Portside cannot sign people in with it", name)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, doc.JWKS, nil)
	if err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "the provider's jwks_uri %q is not a URL", doc.JWKS)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "the provider's signing keys (%s) cannot be read", doc.JWKS)
	}
	defer resp.Body.Close()
	var keys struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", errs.E(errs.Unavailable, "the provider's signing keys (%s) answered HTTP %d", doc.JWKS, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&keys); err != nil || len(keys.Keys) == 0 {
		return "", errs.E(errs.Unavailable, "the provider's signing keys (%s) hold no key set", doc.JWKS)
	}
	info := "no userinfo endpoint: e-mail and profile must come in the ID token"
	if doc.UserInfo != "" {
		info = "userinfo endpoint present"
	}
	return fmt.Sprintf("discovered: %d signing key(s), %s", len(keys.Keys), info), nil
}
