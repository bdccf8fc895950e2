package devidp_test

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/portside-dev/portside/auth/devidp"
	"github.com/portside-dev/portside/internal/testutil"
)

const (
	portsideID     = "portside"
	portsideSecret = "s3cret"
	// The relying party's URLs are never requested: the browser stops at them.
	rpOrigin     = "http://127.0.0.1:1"
	callbackURL  = rpOrigin + "/callback"
	signedOutURL = rpOrigin + "/signed-out"
)

var (
	alice = devidp.User{Username: "alice", Password: "alice-pw", Email: "alice@acme.example", Name: "Alice Admin",
		Groups: []string{"team-platform", "portside-admins"}}
	bob = devidp.User{Username: "bob", Password: "bob-pw", Email: "bob@acme.example", Name: "Bob Owner",
		Groups: []string{"team-payments"}}
)

func TestCodeFlowWithPKCESignsInAndServesProfileClaimsFromUserinfo(t *testing.T) {
	idp := startIDP(t)
	rp := newRP(t, idp, portsideID, portsideSecret, oidc.ScopeOpenID, "profile", "email", "groups")
	f := newFlow()

	cb := signIn(t, newBrowser(), rp.authURL(f), "alice", "alice-pw")
	if cb.Query().Get("state") != f.state || cb.Query().Get("code") == "" {
		t.Fatalf("callback %v: want a code and state %q", cb, f.state)
	}
	tok, err := rp.conf.Exchange(t.Context(), cb.Query().Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken != "" {
		t.Errorf("a refresh token without offline_access")
	}

	idt := rp.verify(t, tok, f.nonce)
	if idt.Issuer != idp.Issuer() || !slices.Equal(idt.Audience, []string{portsideID}) || idt.Subject != "user-alice" {
		t.Errorf("ID token iss %q aud %v sub %q", idt.Issuer, idt.Audience, idt.Subject)
	}
	var idClaims map[string]any
	if err := idt.Claims(&idClaims); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"email", "name", "groups"} {
		if v, ok := idClaims[c]; ok {
			t.Errorf("the ID token carries %s=%v; profile claims belong to userinfo", c, v)
		}
	}
	// The username is in the ID token, so that it can serve as a bearer token against Portside.
	if idClaims["preferred_username"] != "alice" {
		t.Errorf("the ID token's preferred_username = %v, want alice", idClaims["preferred_username"])
	}

	ui, err := rp.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var extra struct {
		PreferredUsername string   `json:"preferred_username"`
		Name              string   `json:"name"`
		Groups            []string `json:"groups"`
	}
	if err := ui.Claims(&extra); err != nil {
		t.Fatal(err)
	}
	if ui.Subject != "user-alice" || ui.Email != alice.Email || !ui.EmailVerified || extra.PreferredUsername != "alice" ||
		extra.Name != alice.Name || !slices.Equal(extra.Groups, alice.Groups) {
		t.Errorf("userinfo = %+v %+v", ui, extra)
	}
}

func TestUserinfoOnlyHasTheClaimsOfTheGrantedScopes(t *testing.T) {
	idp := startIDP(t)
	rp := newRP(t, idp, portsideID, portsideSecret, oidc.ScopeOpenID)
	tok, _ := rp.codeFlow(t, "bob", "bob-pw")

	var claims map[string]any
	ui, err := rp.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	if err := ui.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if len(claims) != 1 || claims["sub"] != "user-bob" {
		t.Errorf("userinfo with scope openid = %v, want the subject only", claims)
	}
}

func TestAWrongPasswordShowsTheFormAgainWithAnError(t *testing.T) {
	idp := startIDP(t)
	rp := newRP(t, idp, portsideID, portsideSecret, oidc.ScopeOpenID)
	b := newBrowser()
	form := openLoginForm(t, b, rp.authURL(newFlow()))
	for _, name := range []string{"alice", "bob"} {
		if !strings.Contains(form.body, "<code>"+name+"</code>") {
			t.Errorf("the form does not list user %s as a hint", name)
		}
	}
	if strings.Contains(form.body, "alice-pw") {
		t.Errorf("the form shows a password")
	}

	resp := form.submit(t, b, "alice", "not-alice-pw")
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Request.Method != http.MethodPost || resp.Request.URL.Path != "/login" {
		t.Fatalf("wrong password: %d at %s %v, want 200 on the login page itself", resp.StatusCode, resp.Request.Method, resp.Request.URL)
	}
	if !strings.Contains(body, "Wrong username or password") || !strings.Contains(body, `value="`+form.authRequestID+`"`) ||
		!strings.Contains(body, `value="alice"`) {
		t.Errorf("the form is not shown again with the error, request and username: %s", body)
	}

	// The request is still usable.
	if cb := callbackOf(t, form.submit(t, b, "alice", "alice-pw")); cb.Query().Get("code") == "" {
		t.Errorf("no code after the right password: %v", cb)
	}
}

func TestAuthorizeWithoutS256PKCEIsRefused(t *testing.T) {
	idp := startIDP(t)
	rp := newRP(t, idp, portsideID, portsideSecret, oidc.ScopeOpenID)
	for name, opts := range map[string][]oauth2.AuthCodeOption{
		"no code_challenge":     nil,
		"method plain":          {oauth2.SetAuthURLParam("code_challenge", oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("code_challenge_method", "plain")},
		"no method means plain": {oauth2.SetAuthURLParam("code_challenge", oauth2.GenerateVerifier())},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := newBrowser().Get(rp.conf.AuthCodeURL("st-1", opts...))
			if err != nil {
				t.Fatal(err)
			}
			cb := callbackOf(t, resp)
			q := cb.Query()
			if q.Get("error") != "invalid_request" || q.Get("state") != "st-1" || q.Has("code") ||
				!strings.Contains(q.Get("error_description"), "code_challenge") {
				t.Errorf("redirected with %v, want error=invalid_request about code_challenge, the state and no code", q)
			}
		})
	}
}

func TestAnUnregisteredRedirectURIIsRefusedWithoutRedirecting(t *testing.T) {
	idp := startIDP(t)
	rp := newRP(t, idp, portsideID, portsideSecret, oidc.ScopeOpenID)
	rp.conf.RedirectURL = rpOrigin + "/elsewhere"
	resp, err := newBrowser().Get(rp.authURL(newFlow()))
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusBadRequest || resp.Request.URL.Path != "/authorize" || !strings.Contains(body, "redirect_uri") {
		t.Errorf("unregistered redirect_uri: %d at %v: %s", resp.StatusCode, resp.Request.URL, body)
	}
}

func TestAnAuthorizationCodeIsGoodForOneExchange(t *testing.T) {
	idp := startIDP(t)
	rp := newRP(t, idp, portsideID, portsideSecret, oidc.ScopeOpenID, "email")
	f := newFlow()
	code := signIn(t, newBrowser(), rp.authURL(f), "bob", "bob-pw").Query().Get("code")

	tok, err := rp.conf.Exchange(t.Context(), code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	_, err = rp.conf.Exchange(t.Context(), code, oauth2.VerifierOption(f.verifier))
	if oauthError(err) != "invalid_grant" {
		t.Fatalf("second exchange of the code: %v, want invalid_grant", err)
	}
	// As RFC 6749 advises, the replay revokes what the code gave.
	if _, err := rp.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Errorf("the access token of a replayed code still works")
	}
}

func TestClientsAuthenticateWithBasicOrPostAndNothingElse(t *testing.T) {
	idp := startIDP(t)
	exchange := func(rp *relyingParty, style oauth2.AuthStyle, code string, f flow) error {
		conf := rp.conf
		conf.Endpoint.AuthStyle = style
		_, err := conf.Exchange(t.Context(), code, oauth2.VerifierOption(f.verifier))
		return err
	}
	rp := newRP(t, idp, portsideID, portsideSecret, oidc.ScopeOpenID)
	f := newFlow()
	code := signIn(t, newBrowser(), rp.authURL(f), "bob", "bob-pw").Query().Get("code")

	wrongSecret := newRP(t, idp, portsideID, "not-the-secret", oidc.ScopeOpenID)
	if err := exchange(wrongSecret, oauth2.AuthStyleInHeader, code, f); oauthError(err) != "invalid_client" {
		t.Errorf("wrong secret: %v, want invalid_client", err)
	}
	unknown := newRP(t, idp, "nobody", "whatever", oidc.ScopeOpenID)
	if err := exchange(unknown, oauth2.AuthStyleInHeader, code, f); oauthError(err) != "invalid_client" {
		t.Errorf("unknown client: %v, want invalid_client", err)
	}
	if err := exchange(rp, oauth2.AuthStyleInHeader, code, flow{verifier: oauth2.GenerateVerifier()}); oauthError(err) != "invalid_grant" {
		t.Errorf("wrong code_verifier: %v, want invalid_grant", err)
	}
	// Failed attempts do not use the code up; client_secret_post works as well as basic.
	if err := exchange(rp, oauth2.AuthStyleInParams, code, f); err != nil {
		t.Errorf("client_secret_post: %v", err)
	}
}

func TestUnparsableTokenRequestsGetAnOAuthError(t *testing.T) {
	idp := startIDP(t)
	rp := newRP(t, idp, portsideID, portsideSecret)
	for name, tc := range map[string]struct {
		body, basic string
		status      int
		code        string
	}{
		"basic credentials that are not form-encoded": {"grant_type=authorization_code&code=x", "%zz:x", http.StatusUnauthorized, "invalid_client"},
		"a form that does not parse":                  {"grant_type=refresh_token&refresh_token=%zz", "", http.StatusBadRequest, "invalid_request"},
	} {
		req, _ := http.NewRequest(http.MethodPost, rp.provider.Endpoint().TokenURL, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.basic != "" {
			id, secret, _ := strings.Cut(tc.basic, ":")
			req.SetBasicAuth(id, secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s: %v, want an answer", name, err)
			continue
		}
		var got struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(readBody(t, resp)), &got); err != nil || resp.StatusCode != tc.status || got.Error != tc.code {
			t.Errorf("%s: %d %q (%v), want %d %s", name, resp.StatusCode, got.Error, err, tc.status, tc.code)
		}
	}
}

func TestRefreshTokensRotate(t *testing.T) {
	idp := startIDP(t)
	rp := newRP(t, idp, portsideID, portsideSecret, oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess)
	first, _ := rp.codeFlow(t, "alice", "alice-pw")
	if first.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access")
	}

	second, err := rp.refresh(t, first.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if second.AccessToken == first.AccessToken || second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Errorf("refresh did not give new access and refresh tokens")
	}
	if idt := rp.verify(t, second, ""); idt.Subject != "user-alice" {
		t.Errorf("refreshed ID token for %q", idt.Subject)
	}
	if ui, err := rp.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(second)); err != nil || ui.Subject != "user-alice" {
		t.Errorf("userinfo with the refreshed access token: %v %v", ui, err)
	}

	if _, err := rp.refresh(t, first.RefreshToken); oauthError(err) != "invalid_grant" {
		t.Errorf("reusing the rotated refresh token: %v, want invalid_grant", err)
	}
	if _, err := rp.refresh(t, second.RefreshToken); err != nil {
		t.Errorf("the new refresh token: %v", err)
	}
}

func TestARevokedRefreshTokenNoLongerWorks(t *testing.T) {
	idp := startIDP(t)
	rp := newRP(t, idp, portsideID, portsideSecret, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	tok, _ := rp.codeFlow(t, "bob", "bob-pw")
	var meta struct {
		Revocation string `json:"revocation_endpoint"`
	}
	if err := rp.provider.Claims(&meta); err != nil || meta.Revocation == "" {
		t.Fatalf("no revocation_endpoint in discovery: %v", err)
	}
	req, _ := http.NewRequest(http.MethodPost, meta.Revocation, strings.NewReader(url.Values{"token": {tok.RefreshToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(portsideID, portsideSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("revocation: %d %s", resp.StatusCode, body)
	}
	if _, err := rp.refresh(t, tok.RefreshToken); oauthError(err) != "invalid_grant" {
		t.Errorf("refresh with a revoked token: %v, want invalid_grant", err)
	}
}

func TestRotatedKeysKeepVerifyingUntilDropped(t *testing.T) {
	idp := startIDP(t)
	rp := newRP(t, idp, portsideID, portsideSecret, oidc.ScopeOpenID)
	verifier := rp.provider.Verifier(&oidc.Config{ClientID: portsideID})
	before, _ := rp.codeFlow(t, "alice", "alice-pw")
	beforeID := idTokenOf(t, before)
	if _, err := verifier.Verify(t.Context(), beforeID); err != nil {
		t.Fatal(err)
	}

	if err := idp.RotateKey(); err != nil {
		t.Fatal(err)
	}
	if n := len(rp.jwks(t).Keys); n != 2 {
		t.Errorf("after rotation the JWKS has %d keys, want the old and the new", n)
	}
	after, _ := rp.codeFlow(t, "alice", "alice-pw")
	afterID := idTokenOf(t, after)
	if kidOf(t, afterID) == kidOf(t, beforeID) {
		t.Fatal("the token after rotation is signed by the old key")
	}
	// The verifier knows only the old key: the unknown kid makes go-oidc fetch the JWKS again.
	if _, err := verifier.Verify(t.Context(), afterID); err != nil {
		t.Errorf("token signed after rotation: %v", err)
	}
	fresh := newRP(t, idp, portsideID, portsideSecret).provider.Verifier(&oidc.Config{ClientID: portsideID})
	if _, err := fresh.Verify(t.Context(), beforeID); err != nil {
		t.Errorf("token signed before rotation, fresh verifier: %v", err)
	}

	idp.DropRetiredKeys()
	if keys := rp.jwks(t).Keys; len(keys) != 1 || keys[0].KeyID != kidOf(t, afterID) {
		t.Errorf("after dropping, the JWKS is %v, want the current key only", keys)
	}
	fresh = newRP(t, idp, portsideID, portsideSecret).provider.Verifier(&oidc.Config{ClientID: portsideID})
	if _, err := fresh.Verify(t.Context(), beforeID); err == nil {
		t.Errorf("a token signed by a dropped key still verifies")
	}
	if _, err := fresh.Verify(t.Context(), afterID); err != nil {
		t.Errorf("token signed by the current key: %v", err)
	}
}

func TestSignIDTokenMintsTokensForRejectionTests(t *testing.T) {
	idp := startIDP(t)
	rp := newRP(t, idp, portsideID, portsideSecret)
	verifier := rp.provider.Verifier(&oidc.Config{ClientID: portsideID})
	claims := func(change func(map[string]any)) map[string]any {
		now := time.Now()
		c := map[string]any{"iss": idp.Issuer(), "sub": "user-bob", "aud": portsideID, "iat": now.Unix(),
			"exp": now.Add(5 * time.Minute).Unix(), "groups": []string{"team-payments"}}
		if change != nil {
			change(c)
		}
		return c
	}
	sign := func(c map[string]any) string {
		tok, err := idp.SignIDToken(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	good := sign(claims(nil))
	idt, err := verifier.Verify(t.Context(), good)
	if err != nil {
		t.Fatalf("matching claims: %v", err)
	}
	var got struct {
		Groups []string `json:"groups"`
	}
	if err := idt.Claims(&got); err != nil || idt.Subject != "user-bob" || !slices.Equal(got.Groups, []string{"team-payments"}) {
		t.Errorf("claims came back as sub %q %+v (%v)", idt.Subject, got, err)
	}
	if kid, set := kidOf(t, good), rp.jwks(t); kid == "" || set.Key(kid) == nil {
		t.Errorf("kid %q is not in the JWKS", kid)
	}

	for name, change := range map[string]func(map[string]any){
		"expired":          func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() },
		"another audience": func(c map[string]any) { c["aud"] = "other-app" },
		"another issuer":   func(c map[string]any) { c["iss"] = rpOrigin },
	} {
		if _, err := verifier.Verify(t.Context(), sign(claims(change))); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestAClientAddedAtRuntimeGetsTokensForItsOwnAudience(t *testing.T) {
	idp := startIDP(t)
	idp.AddClient(devidp.Client{ID: "other-app", Secret: "other-secret", RedirectURIs: []string{callbackURL}})
	other := newRP(t, idp, "other-app", "other-secret", oidc.ScopeOpenID)
	tok, _ := other.codeFlow(t, "bob", "bob-pw")

	portside := newRP(t, idp, portsideID, portsideSecret).provider.Verifier(&oidc.Config{ClientID: portsideID})
	if _, err := portside.Verify(t.Context(), idTokenOf(t, tok)); err == nil || !strings.Contains(err.Error(), "audience") {
		t.Errorf("another client's ID token at portside: %v, want an audience error", err)
	}
}

func TestLogoutRedirectsToARegisteredURIWithTheState(t *testing.T) {
	idp := startIDP(t)
	rp := newRP(t, idp, portsideID, portsideSecret, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := rp.provider.Claims(&meta); err != nil || !strings.HasPrefix(meta.EndSession, idp.Issuer()+"/") {
		t.Fatalf("end_session_endpoint %q in discovery (%v)", meta.EndSession, err)
	}
	tok, _ := rp.codeFlow(t, "alice", "alice-pw")
	logout := func(postLogout string) *http.Response {
		t.Helper()
		u := meta.EndSession + "?" + url.Values{"id_token_hint": {idTokenOf(t, tok)},
			"post_logout_redirect_uri": {postLogout}, "state": {"bye-1"}}.Encode()
		resp, err := noRedirects.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	resp := logout(rpOrigin + "/not-registered")
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "invalid_request") {
		t.Errorf("logout to an unregistered URI: %d %s, want 400 invalid_request", resp.StatusCode, body)
	}

	resp = logout(signedOutURL)
	readBody(t, resp)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != signedOutURL+"?state=bye-1" {
		t.Fatalf("logout: %d to %q, want 302 to %s?state=bye-1", resp.StatusCode, loc, signedOutURL)
	}
	// Logout ends what the person had at the client.
	if _, err := rp.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Errorf("the access token still works after logout")
	}
	if _, err := rp.refresh(t, tok.RefreshToken); err == nil {
		t.Errorf("the refresh token still works after logout")
	}
}

func TestSignInRequestsExpireAfterTenMinutes(t *testing.T) {
	idp := startIDP(t)
	clock := testutil.NewClock(time.Now())
	devidp.SetClock(idp, clock.Now)
	rp := newRP(t, idp, portsideID, portsideSecret, oidc.ScopeOpenID)
	b := newBrowser()
	form := openLoginForm(t, b, rp.authURL(newFlow()))

	clock.Add(10 * time.Minute)
	resp := form.submit(t, b, "alice", "alice-pw")
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "expired") {
		t.Errorf("sign-in after 10 minutes: %d %s, want 400 expired", resp.StatusCode, body)
	}
}

func TestStartRefusesAddressesOffLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "example.com:80", ":0", "[::]:0", "192.0.2.1:0"} {
		idp, err := devidp.Start(t.Context(), devidp.Options{Addr: addr})
		if err == nil {
			idp.Close()
			t.Errorf("Start on %q succeeded", addr)
			continue
		}
		if !strings.Contains(err.Error(), addr) {
			t.Errorf("Start on %q: %v, want the error to name the address", addr, err)
		}
	}
	idp, err := devidp.Start(t.Context(), devidp.Options{Addr: "localhost:0", Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("localhost: %v", err)
	}
	defer idp.Close()
	if !strings.HasPrefix(idp.Issuer(), "http://127.0.0.1:") || strings.HasSuffix(idp.Issuer(), "/") {
		t.Errorf("issuer %q, want http://127.0.0.1:PORT", idp.Issuer())
	}
}

// --- the relying party and the browser ---

func startIDP(t *testing.T) *devidp.Provider {
	t.Helper()
	idp, err := devidp.Start(t.Context(), devidp.Options{
		Addr:  "127.0.0.1:0",
		Users: []devidp.User{alice, bob},
		Clients: []devidp.Client{{ID: portsideID, Secret: portsideSecret,
			RedirectURIs: []string{callbackURL}, PostLogoutRedirectURIs: []string{signedOutURL}}},
		Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := idp.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return idp
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// relyingParty is a client application as Portside is one: x/oauth2 plus go-oidc.
type relyingParty struct {
	provider *oidc.Provider
	conf     oauth2.Config
}

func newRP(t *testing.T, idp *devidp.Provider, clientID, secret string, scopes ...string) *relyingParty {
	t.Helper()
	p, err := oidc.NewProvider(t.Context(), idp.Issuer())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &relyingParty{provider: p, conf: oauth2.Config{ClientID: clientID, ClientSecret: secret,
		Endpoint: p.Endpoint(), RedirectURL: callbackURL, Scopes: scopes}}
}

// flow is what the relying party remembers between redirect and callback.
type flow struct{ state, nonce, verifier string }

func newFlow() flow {
	return flow{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
}

func (rp *relyingParty) authURL(f flow) string {
	return rp.conf.AuthCodeURL(f.state, oidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier))
}

// codeFlow signs username in and exchanges the code; it returns the tokens and the nonce.
func (rp *relyingParty) codeFlow(t *testing.T, username, password string) (*oauth2.Token, string) {
	t.Helper()
	f := newFlow()
	cb := signIn(t, newBrowser(), rp.authURL(f), username, password)
	if cb.Query().Get("state") != f.state {
		t.Fatalf("callback state %q, want %q", cb.Query().Get("state"), f.state)
	}
	tok, err := rp.conf.Exchange(t.Context(), cb.Query().Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rp.verify(t, tok, f.nonce)
	return tok, f.nonce
}

// verify checks the ID token of tok as a relying party must, nonce included when one was sent.
func (rp *relyingParty) verify(t *testing.T, tok *oauth2.Token, nonce string) *oidc.IDToken {
	t.Helper()
	idt, err := rp.provider.Verifier(&oidc.Config{ClientID: rp.conf.ClientID}).Verify(t.Context(), idTokenOf(t, tok))
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Fatalf("ID token nonce %q, want %q", idt.Nonce, nonce)
	}
	return idt
}

func (rp *relyingParty) refresh(t *testing.T, refreshToken string) (*oauth2.Token, error) {
	return rp.conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: refreshToken}).Token()
}

func (rp *relyingParty) jwks(t *testing.T) jose.JSONWebKeySet {
	t.Helper()
	var meta struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := rp.provider.Claims(&meta); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(meta.JWKS)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(readBody(t, resp)), &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Use != "sig" || k.Algorithm != string(jose.RS256) {
			t.Errorf("JWKS key %s: use %q alg %q, want sig RS256", k.KeyID, k.Use, k.Algorithm)
		}
	}
	return set
}

func idTokenOf(t *testing.T, tok *oauth2.Token) string {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("no id_token in the token response")
	}
	return raw
}

func kidOf(t *testing.T, raw string) string {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Header.KeyID
}

// oauthError is the OAuth error code of a failed token request, or "" for another error.
func oauthError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

// newBrowser keeps cookies and follows redirects, but stops at the relying party, which does
// not exist.
func newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), rpOrigin+"/") {
			return http.ErrUseLastResponse
		}
		if len(via) >= 10 {
			return errors.New("too many redirects")
		}
		return nil
	}}
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type loginForm struct {
	page          *url.URL
	action        string
	authRequestID string
	body          string
}

var (
	formAction   = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	authRequestF = regexp.MustCompile(`<input type="hidden" name="authRequestID" value="([^"]+)">`)
)

// openLoginForm follows authURL to the provider's login form.
func openLoginForm(t *testing.T, b *http.Client, authURL string) loginForm {
	t.Helper()
	resp, err := b.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	action, id := formAction.FindStringSubmatch(body), authRequestF.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || action == nil || id == nil || !strings.Contains(body, `name="password"`) {
		t.Fatalf("login form: %d at %v: %s", resp.StatusCode, resp.Request.URL, body)
	}
	return loginForm{page: resp.Request.URL, action: action[1], authRequestID: id[1], body: body}
}

func (f loginForm) submit(t *testing.T, b *http.Client, username, password string) *http.Response {
	t.Helper()
	target, err := f.page.Parse(f.action)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.PostForm(target.String(), url.Values{"authRequestID": {f.authRequestID}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// signIn goes from authURL through the login form to the redirect to the relying party.
func signIn(t *testing.T, b *http.Client, authURL, username, password string) *url.URL {
	t.Helper()
	return callbackOf(t, openLoginForm(t, b, authURL).submit(t, b, username, password))
}

// callbackOf is where resp redirects the browser at the relying party.
func callbackOf(t *testing.T, resp *http.Response) *url.URL {
	t.Helper()
	body := readBody(t, resp)
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), callbackURL+"?") {
		t.Fatalf("want a redirect to %s, got %d to %v: %s", callbackURL, resp.StatusCode, loc, body)
	}
	return loc
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Tests change people while the provider runs: new groups show in the next tokens' userinfo, and
// a revoked user's refresh tokens stop working.
func TestGroupsChangeAndUsersAreRevokedWhileRunning(t *testing.T) {
	idp := startIDP(t)
	rp := newRP(t, idp, portsideID, portsideSecret, oidc.ScopeOpenID, oidc.ScopeOfflineAccess, "groups")
	tok, _ := rp.codeFlow(t, "bob", "bob-pw")
	if err := idp.SetGroups("bob", []string{"team-platform"}); err != nil {
		t.Fatal(err)
	}
	next, err := rp.refresh(t, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	ui, err := rp.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(next))
	var claims struct {
		Groups []string `json:"groups"`
	}
	if err != nil || ui.Claims(&claims) != nil || !slices.Equal(claims.Groups, []string{"team-platform"}) {
		t.Errorf("groups after the change: %v %v", claims.Groups, err)
	}
	if err := idp.RevokeUser("bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := rp.refresh(t, next.RefreshToken); oauthError(err) != "invalid_grant" {
		t.Errorf("refresh after the user was revoked: %v, want invalid_grant", err)
	}
	if err := idp.SetGroups("nobody", nil); err == nil || !strings.Contains(err.Error(), "nobody") {
		t.Errorf("SetGroups of an unknown user: %v", err)
	}
	if err := idp.RevokeUser("nobody"); err == nil || !strings.Contains(err.Error(), "nobody") {
		t.Errorf("RevokeUser of an unknown user: %v", err)
	}
}
